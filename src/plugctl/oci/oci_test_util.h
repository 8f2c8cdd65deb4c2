// plugctl/oci/oci_test_util.h — shared helpers for the oci tests.
//
//   d.platform = MakePlatform("linux", "amd64");
#pragma once

#include <string>
#include <utility>

#include "plugctl/oci/descriptor.h"

namespace plugctl::oci::testing {

// Designated initializers that skip members trip GCC 12's
// -Wmissing-field-initializers, so build values field by field.
inline Platform MakePlatform(std::string os, std::string architecture) {
  Platform p;
  p.os = std::move(os);
  p.architecture = std::move(architecture);
  return p;
}

}  // namespace plugctl::oci::testing
