#include <iostream>
#include <string>
#include <vector>

#include "scanner/cli/commands.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return scangate::cli::run(args, {std::cout, std::cerr});
}
