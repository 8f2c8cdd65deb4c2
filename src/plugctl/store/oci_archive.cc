#include "plugctl/store/oci_archive.h"

#include <atomic>
#include <system_error>

#include "plugctl/base/file.h"
#include "plugctl/store/archive_staging.h"
#include "plugctl/store/oci_layout.h"

namespace plugctl::store {
namespace {

class OciArchiveTarget : public Target, public TagAnnotator, public ReferrerRecorder {
 public:
  OciArchiveTarget(fs::path file, OpenMode mode, std::unique_ptr<TempDir> staging,
                   std::unique_ptr<OciLayoutTarget> layout, bool dirty)
      : file_(std::move(file)),
        mode_(mode),
        staging_(std::move(staging)),
        layout_(std::move(layout)),
        dirty_(dirty) {}

  std::string Describe() const override { return layout_->Describe(); }

  Result<oci::Descriptor> Resolve(std::string_view reference) override {
    return layout_->Resolve(reference);
  }
  Result<std::unique_ptr<Reader>> Fetch(const oci::Descriptor& desc) override {
    return layout_->Fetch(desc);
  }
  Result<bool> Exists(const oci::Descriptor& desc) override { return layout_->Exists(desc); }

  Status Push(const oci::Descriptor& desc, Reader& content) override {
    if (mode_ == OpenMode::kRead) return internal::ReadOnlyError(Describe(), "push");
    PLUGCTL_RETURN_IF_ERROR(layout_->Push(desc, content));
    dirty_ = true;
    return OkStatus();
  }

  Status Tag(const oci::Descriptor& desc, std::string_view tag) override {
    if (mode_ == OpenMode::kRead) return internal::ReadOnlyError(Describe(), "tag");
    PLUGCTL_RETURN_IF_ERROR(layout_->Tag(desc, tag));
    dirty_ = true;
    return OkStatus();
  }

  Status TagWithAnnotations(const oci::Descriptor& desc, std::string_view tag,
                            const oci::Annotations& extra) override {
    if (mode_ == OpenMode::kRead) return internal::ReadOnlyError(Describe(), "tag");
    PLUGCTL_RETURN_IF_ERROR(layout_->TagWithAnnotations(desc, tag, extra));
    dirty_ = true;
    return OkStatus();
  }
  TagAnnotator* tag_annotator() override { return this; }
  ReferrerLister* referrer_lister() override { return layout_.get(); }
  ReferrerRecorder* referrer_recorder() override {
    return mode_ == OpenMode::kRead ? nullptr : this;
  }
  Status RecordReferrer(const oci::Descriptor& desc) override {
    PLUGCTL_RETURN_IF_ERROR(layout_->RecordReferrer(desc));
    dirty_ = true;
    return OkStatus();
  }

  Result<std::vector<std::string>> Tags() override { return layout_->Tags(); }

  Status Commit() override {
    if (mode_ == OpenMode::kRead || !dirty_) return OkStatus();
    Status st =
        internal::WriteArchiveFileAtomically(file_, [this](archive::TarWriter& tar) -> Status {
          PLUGCTL_RETURN_IF_ERROR(internal::AddLayoutMetadata(layout_->dir(), tar));
          return internal::AddLayoutBlobs(*layout_, tar);
        });
    if (!st) return tl::unexpected(st.error().WithContext(Describe()));
    dirty_ = false;
    return OkStatus();
  }

 private:
  fs::path file_;
  OpenMode mode_;
  std::unique_ptr<TempDir> staging_;  // outlives layout_'s use of it (declared first)
  std::unique_ptr<OciLayoutTarget> layout_;
  std::atomic<bool> dirty_;
};

}  // namespace

Result<std::unique_ptr<Target>> OpenOciArchive(const fs::path& file, OpenMode mode) {
  const std::string describe = "oci-archive:" + file.string();
  std::error_code ec;
  bool exists = fs::exists(file, ec);
  if (mode == OpenMode::kWrite) {
    PLUGCTL_RETURN_IF_ERROR(internal::CheckParentDirectory(file, describe));
  } else if (!exists) {
    return MakeError(ErrorCode::kNotFound, "{}: file not found", describe);
  }
  PLUGCTL_ASSIGN_OR_RETURN(auto staging, TempDir::Create("plugctl-oci-archive"));
  fs::path root = staging->path() / "layout";
  if (exists) {
    PLUGCTL_RETURN_IF_ERROR(internal::ExtractArchiveFile(file, root, describe));
    if (!fs::exists(root / "oci-layout", ec)) {
      if (mode == OpenMode::kRead) {
        return MakeError(ErrorCode::kNotFound, "{}: not an OCI archive: no oci-layout member",
                         describe);
      }
      return MakeError(ErrorCode::kFailedPrecondition,
                       "{}: the existing file is not an OCI archive (no oci-layout member); "
                       "refusing to replace it",
                       describe);
    }
  }
  Result<std::unique_ptr<OciLayoutTarget>> layout =
      OciLayoutTarget::Open(root, {.create = mode == OpenMode::kWrite, .display_name = describe});
  if (!layout) return tl::unexpected(layout.error());
  return std::unique_ptr<Target>(std::make_unique<OciArchiveTarget>(
      file, mode, std::move(staging), std::move(*layout), /*dirty=*/!exists));
}

}  // namespace plugctl::store
