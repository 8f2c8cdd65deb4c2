#include "plugctl/cli/app.h"

int main(int argc, char** argv) { return plugctl::cli::RunCli(argc, argv); }
