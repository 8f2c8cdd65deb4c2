#include "plugctl/store/memory_target.h"

#include "plugctl/oci/verifying_reader.h"

namespace plugctl::store {

Result<oci::Descriptor> MemoryTarget::Resolve(std::string_view reference) {
  std::lock_guard lock(mu_);
  if (reference.empty()) {
    if (tags_.size() == 1) return tags_.begin()->second;
    return MakeError(ErrorCode::kFailedPrecondition, "{} holds {} tagged images; name one", name_,
                     tags_.size());
  }
  if (auto it = tags_.find(std::string(reference)); it != tags_.end()) return it->second;
  if (auto digest = oci::Digest::Parse(reference)) {
    if (auto it = blobs_.find(*digest); it != blobs_.end()) {
      oci::Descriptor desc;
      desc.digest = *digest;
      desc.size = static_cast<int64_t>(it->second.size());
      desc.media_type = media_types_[*digest];
      return desc;
    }
  }
  return MakeError(ErrorCode::kNotFound, "{} not found in {}", reference, name_);
}

Result<std::unique_ptr<Reader>> MemoryTarget::Fetch(const oci::Descriptor& desc) {
  std::lock_guard lock(mu_);
  auto it = blobs_.find(desc.digest);
  if (it == blobs_.end()) {
    return MakeError(ErrorCode::kNotFound, "{} not found in {}", desc.digest.ToString(), name_);
  }
  return std::unique_ptr<Reader>(std::make_unique<StringReader>(it->second));
}

Result<bool> MemoryTarget::Exists(const oci::Descriptor& desc) {
  std::lock_guard lock(mu_);
  return blobs_.contains(desc.digest);
}

Status MemoryTarget::Push(const oci::Descriptor& desc, Reader& content) {
  std::optional<oci::VerifyingReader> storage;
  oci::VerifyingReader& verifying =
      oci::EnsureVerifying(content, desc, fmt::format("push {}", desc.digest.ToString()), storage);
  StringWriter out;
  PLUGCTL_RETURN_IF_ERROR(CopyStream(verifying, out));
  std::lock_guard lock(mu_);
  blobs_[desc.digest] = out.Take();
  media_types_[desc.digest] = desc.media_type;
  return OkStatus();
}

Status MemoryTarget::Tag(const oci::Descriptor& desc, std::string_view tag) {
  std::lock_guard lock(mu_);
  if (!blobs_.contains(desc.digest)) {
    return MakeError(ErrorCode::kNotFound, "cannot tag {}: {} not stored", tag,
                     desc.digest.ToString());
  }
  tags_[std::string(tag)] = desc;
  return OkStatus();
}

Result<std::vector<std::string>> MemoryTarget::Tags() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [tag, desc] : tags_) out.push_back(tag);
  return out;
}

oci::Descriptor MemoryTarget::Put(std::string_view media_type, std::string bytes) {
  oci::Descriptor desc = oci::Descriptor::For(media_type, bytes);
  std::lock_guard lock(mu_);
  blobs_[desc.digest] = std::move(bytes);
  media_types_[desc.digest] = std::string(media_type);
  return desc;
}

void MemoryTarget::Corrupt(const oci::Digest& digest, std::string bytes) {
  std::lock_guard lock(mu_);
  blobs_[digest] = std::move(bytes);
}

size_t MemoryTarget::blob_count() const {
  std::lock_guard lock(mu_);
  return blobs_.size();
}

}  // namespace plugctl::store
