// open_datasource: a configuration entry becomes a runnable data source.
#include "gateway/datasource/datasource.hpp"

#include "gateway/datasource/postgres_source.hpp"
#include "gateway/datasource/sqlite_source.hpp"

namespace gwprobe::gateway::datasource {

core::Result<std::unique_ptr<DataSource>> open_datasource(const DataSourceConfig& config,
                                                          const protocol::GatewayKey* key) {
  if (config.kind == "sqlite") {
    return std::unique_ptr<DataSource>(std::make_unique<SqliteSource>(config.name, config.path));
  }
  if (config.kind == "postgres") {
    std::optional<core::Secret> password;
    if (config.sealed_password) {
      if (key == nullptr) {
        return core::fail(core::FailureKind::invalid_input,
                          "data source '" + config.name +
                              "': password_sealed needs the gateway's key to open it");
      }
      auto opened = key->open(*config.sealed_password);
      if (!opened) {
        core::Error error = opened.error();
        error.message = "data source '" + config.name + "': password_sealed: " + error.message;
        return core::fail(std::move(error));
      }
      password = std::move(*opened);
    }
    return std::unique_ptr<DataSource>(
        std::make_unique<PostgresSource>(config.name, config.conninfo, std::move(password)));
  }
  return core::fail(core::FailureKind::invalid_input, "data source '" + config.name +
                                                          "': unknown kind '" + config.kind +
                                                          "': expected \"sqlite\" or \"postgres\"");
}

}  // namespace gwprobe::gateway::datasource
