// Fuzzes Reference::Parse with arbitrary text. Beyond not crashing, every
// accepted reference must print to a canonical form that parses back to the
// same value, since that form is what plugctl stores and shows.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "plugctl/oci/reference.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using plugctl::oci::Reference;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  // Tags are also validated alone; just exercise it.
  (void)plugctl::oci::ValidateTag(text);

  plugctl::Result<Reference> ref = Reference::Parse(text);
  if (!ref) {
    Check(!ref.error().message().empty());
    return 0;
  }
  Check(!ref->registry.empty());
  Check(!ref->repository.empty());
  Check(ref->Name().size() <= 255);
  Check(!ref->TagOrDigest().empty());
  if (!ref->tag.empty()) Check(plugctl::oci::ValidateTag(ref->tag).has_value());

  std::string canonical = ref->ToString();
  plugctl::Result<Reference> again = Reference::Parse(canonical);
  Check(again.has_value());
  Check(*again == *ref);
  Check(again->ToString() == canonical);
  return 0;
}
