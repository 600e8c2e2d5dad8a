// The DB as an OCI artifact on the command line: `scangate db push|pull`, and the first-run pull of
// `scangate image|rootfs --db-repository REF` (also $SCANGATE_DB_REPOSITORY) when the DB is missing
// or older than --db-max-age.
#pragma once

#include <string>
#include <vector>

#include "scanner/cli/args.h"
#include "scanner/cli/commands.h"
#include "scanner/cli/scan_flags.h"
#include "scanner/image/open_source.h"

namespace scangate::cli {

const std::vector<FlagSpec>& db_repository_flags();

// Before a scan: pulls the DB from --db-repository when it is missing or too old. Returns kExitOk
// to go on, or the exit code after printing why not.
int ensure_db(const Args& args, const ScanSettings& settings, const SourceOptions& registry, const std::string& command,
              Io io);

int cmd_db_push(const std::vector<std::string>& args, Io io);
int cmd_db_pull(const std::vector<std::string>& args, Io io);

// Age of a DB built at `built_at` (RFC 3339, UTC) at `now`; negative when it cannot be read.
std::chrono::seconds db_age(const std::string& built_at, std::chrono::system_clock::time_point now);

}  // namespace scangate::cli
