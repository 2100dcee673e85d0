// open_datasource: a configuration entry becomes a runnable data source.
#include "gateway/datasource/datasource.hpp"

#include "gateway/datasource/sqlite_source.hpp"

namespace gwprobe::gateway::datasource {

core::Result<std::unique_ptr<DataSource>> open_datasource(const DataSourceConfig& config,
                                                          const protocol::GatewayKey* key) {
  if (config.kind == "sqlite") {
    return std::unique_ptr<DataSource>(std::make_unique<SqliteSource>(config.name, config.path));
  }
  if (config.kind == "postgres") {
    (void)key;
    return core::fail(core::FailureKind::unsupported,
                      "data source '" + config.name + "': postgres is not available yet");
  }
  return core::fail(core::FailureKind::invalid_input, "data source '" + config.name +
                                                          "': unknown kind '" + config.kind +
                                                          "': expected \"sqlite\" or \"postgres\"");
}

}  // namespace gwprobe::gateway::datasource
