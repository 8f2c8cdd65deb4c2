#include "plugctl/server/registry_store.h"
