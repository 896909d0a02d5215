// The SQLite C API (libsqlite3-dev), for the run ledger.
#ifndef SLUICE_CSQLITE_SHIM_H
#define SLUICE_CSQLITE_SHIM_H
#include <sqlite3.h>

/// SQLITE_TRANSIENT is a cast macro that Swift cannot import.
static inline void (*sluice_sqlite_transient(void))(void *) { return SQLITE_TRANSIENT; }
#endif
