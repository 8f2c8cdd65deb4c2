// plugctl/store/memory_target.h — a Target held in memory, for tests and for
// composing small images before writing them somewhere real.
//
// Thread-safe. Push verifies like every target does.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "plugctl/store/target.h"

namespace plugctl::store {

class MemoryTarget : public Target {
 public:
  explicit MemoryTarget(std::string name = "memory") : name_(std::move(name)) {}

  std::string Describe() const override { return name_; }
  Result<oci::Descriptor> Resolve(std::string_view reference) override;
  Result<std::unique_ptr<Reader>> Fetch(const oci::Descriptor& desc) override;
  Result<bool> Exists(const oci::Descriptor& desc) override;
  Status Push(const oci::Descriptor& desc, Reader& content) override;
  Status Tag(const oci::Descriptor& desc, std::string_view tag) override;
  Result<std::vector<std::string>> Tags() override;
  Status Commit() override { return OkStatus(); }

  // Stores bytes directly and returns their descriptor.
  oci::Descriptor Put(std::string_view media_type, std::string bytes);
  // Overwrites stored bytes without verification: for corruption tests.
  void Corrupt(const oci::Digest& digest, std::string bytes);
  size_t blob_count() const;

 private:
  std::string name_;
  mutable std::mutex mu_;
  std::map<oci::Digest, std::string> blobs_;
  std::map<oci::Digest, std::string> media_types_;
  std::map<std::string, oci::Descriptor> tags_;
};

}  // namespace plugctl::store
