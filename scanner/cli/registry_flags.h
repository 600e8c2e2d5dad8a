// The flags that say how to reach a registry (credentials, CA, plain-HTTP exceptions), shared by
// `scangate image` and `scangate db push|pull`, and their translation to SourceOptions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "scanner/cli/args.h"
#include "scanner/cli/commands.h"
#include "scanner/image/open_source.h"

namespace scangate::cli {

const std::vector<FlagSpec>& registry_flags();

// The registry part of SourceOptions from the flags (reads the password from standard input for
// --password-stdin). On a bad combination prints "scangate COMMAND: ..." to io.err and returns
// nullopt.
std::optional<SourceOptions> registry_source_options(const Args& args, const std::string& command, Io io);

}  // namespace scangate::cli
