// libpq opened on first use (see libpq.hpp).
#include "gateway/datasource/libpq.hpp"

#include <utility>

#include "core/shared_library.hpp"

namespace gwprobe::gateway::datasource {
namespace {

core::Result<const LibpqApi*> open_libpq() {
  static LibpqApi api;
  core::SharedLibrary lib(GWPROBE_LIBPQ_SONAME, "libpq5");
  lib.bind(api.connectStartParams, "PQconnectStartParams");
  lib.bind(api.connectPoll, "PQconnectPoll");
  lib.bind(api.status, "PQstatus");
  lib.bind(api.socket, "PQsocket");
  lib.bind(api.errorMessage, "PQerrorMessage");
  lib.bind(api.connectionNeedsPassword, "PQconnectionNeedsPassword");
  lib.bind(api.finish, "PQfinish");
  lib.bind(api.setnonblocking, "PQsetnonblocking");
  lib.bind(api.sendQuery, "PQsendQuery");
  lib.bind(api.sendQueryParams, "PQsendQueryParams");
  lib.bind(api.setSingleRowMode, "PQsetSingleRowMode");
  lib.bind(api.flush, "PQflush");
  lib.bind(api.isBusy, "PQisBusy");
  lib.bind(api.consumeInput, "PQconsumeInput");
  lib.bind(api.getResult, "PQgetResult");
  lib.bind(api.resultStatus, "PQresultStatus");
  lib.bind(api.resultErrorField, "PQresultErrorField");
  lib.bind(api.resultErrorMessage, "PQresultErrorMessage");
  lib.bind(api.nfields, "PQnfields");
  lib.bind(api.fname, "PQfname");
  lib.bind(api.getisnull, "PQgetisnull");
  lib.bind(api.getvalue, "PQgetvalue");
  lib.bind(api.getlength, "PQgetlength");
  lib.bind(api.clear, "PQclear");
  lib.bind(api.conninfoParse, "PQconninfoParse");
  lib.bind(api.conninfoFree, "PQconninfoFree");
  lib.bind(api.freemem, "PQfreemem");
  if (auto error = lib.error()) return core::fail(std::move(*error));
  return &api;
}

}  // namespace

const core::Result<const LibpqApi*>& load_libpq() {
  return core::load_once<LibpqApi, open_libpq>();
}

const LibpqApi& libpq() {
  return core::loaded_table<LibpqApi, open_libpq>();
}

}  // namespace gwprobe::gateway::datasource
