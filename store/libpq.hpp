// libpq, loaded when the first postgresql:// database opens instead of linked into every
// program. Linking it cost each peerlite process ~10 ms of start-up, a third of a no-op
// `peerlite sync`: libpq brings Kerberos, LDAP and SASL with it, 11 more shared libraries for
// the dynamic loader (an empty program: 2.8 ms linked without libpq, 12.5 ms with it; perf stat,
// 100 runs). SQLite users never pay for it now; the first PostgreSQL open pays once.
//
// pq() holds the libpq functions peerlite uses, with their own names and types, so pg.cpp
// reads as plain libpq: pq().PQexec(conn, sql).
#pragma once

#include <libpq-fe.h>

#include <string>

namespace peerlite::store {

/// The libpq calls the PostgreSQL store makes.
#define PEERLITE_LIBPQ_FUNCTIONS(X)                                                           \
  X(PQclear) X(PQcmdTuples) X(PQconnectdb) X(PQconsumeInput) X(PQerrorMessage) X(PQexec)      \
  X(PQexecPrepared) X(PQfinish) X(PQfreemem) X(PQftype) X(PQgetisnull) X(PQgetlength)         \
  X(PQgetvalue) X(PQnfields) X(PQnotifies) X(PQntuples) X(PQprepare) X(PQreset)               \
  X(PQresultErrorField) X(PQresultErrorMessage) X(PQresultStatus) X(PQsetNoticeProcessor)     \
  X(PQsocket) X(PQstatus)

struct libpq_functions {
#define PEERLITE_LIBPQ_MEMBER(name) decltype(&::name) name = nullptr;
  PEERLITE_LIBPQ_FUNCTIONS(PEERLITE_LIBPQ_MEMBER)
#undef PEERLITE_LIBPQ_MEMBER
};

/// The soname loaded: libpq's ABI version 5, Debian's libpq5 package.
inline constexpr const char* kLibpqSoname = "libpq.so.5";

/// Loads libpq once (thread-safe; later calls return the same table). nullptr, with `why`
/// set, when the library or one of its functions cannot be found.
const libpq_functions* load_libpq(std::string* why);

/// The table; call only after load_libpq succeeded (every pg_connection is made after it).
const libpq_functions& pq();

}  // namespace peerlite::store
