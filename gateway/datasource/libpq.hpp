// libpq, opened on first use (core/shared_library.hpp): only a gateway with a PostgreSQL source
// maps it, and the ~30 libraries it pulls in (Kerberos, LDAP, GnuTLS).
#pragma once

#include <libpq-fe.h>

#include "core/result.hpp"

namespace gwprobe::gateway::datasource {

/// The libpq functions gwprobe uses, named as in libpq without the PQ prefix.
struct LibpqApi {
  decltype(&::PQconnectStartParams) connectStartParams = nullptr;
  decltype(&::PQconnectPoll) connectPoll = nullptr;
  decltype(&::PQstatus) status = nullptr;
  decltype(&::PQsocket) socket = nullptr;
  decltype(&::PQerrorMessage) errorMessage = nullptr;
  decltype(&::PQconnectionNeedsPassword) connectionNeedsPassword = nullptr;
  decltype(&::PQfinish) finish = nullptr;
  decltype(&::PQsetnonblocking) setnonblocking = nullptr;
  decltype(&::PQsendQuery) sendQuery = nullptr;
  decltype(&::PQsendQueryParams) sendQueryParams = nullptr;
  decltype(&::PQsetSingleRowMode) setSingleRowMode = nullptr;
  decltype(&::PQflush) flush = nullptr;
  decltype(&::PQisBusy) isBusy = nullptr;
  decltype(&::PQconsumeInput) consumeInput = nullptr;
  decltype(&::PQgetResult) getResult = nullptr;
  decltype(&::PQresultStatus) resultStatus = nullptr;
  decltype(&::PQresultErrorField) resultErrorField = nullptr;
  decltype(&::PQresultErrorMessage) resultErrorMessage = nullptr;
  decltype(&::PQnfields) nfields = nullptr;
  decltype(&::PQfname) fname = nullptr;
  decltype(&::PQgetisnull) getisnull = nullptr;
  decltype(&::PQgetvalue) getvalue = nullptr;
  decltype(&::PQgetlength) getlength = nullptr;
  decltype(&::PQclear) clear = nullptr;
  decltype(&::PQconninfoParse) conninfoParse = nullptr;
  decltype(&::PQconninfoFree) conninfoFree = nullptr;
  decltype(&::PQfreemem) freemem = nullptr;
};

/// Opens libpq once per process (thread-safe): the table, or why it cannot be used (not
/// installed, too old), the same answer on every call.
const core::Result<const LibpqApi*>& load_libpq();

/// The table load_libpq() returned; only call after it succeeded (aborts otherwise).
const LibpqApi& libpq();

}  // namespace gwprobe::gateway::datasource
