// plugctl/store/docker_archive.h — `docker save` / `docker load` tar files ("docker-archive:").
//
// The format: `manifest.json` = [{"Config": "<path>", "RepoTags": ["name:tag"...],
// "Layers": ["<path>"...]}...] naming members of the tar; legacy archives (docker < 25) store
// "<id>.json" configs and "<id>/layer.tar" layers, docker 25+ stores "blobs/sha256/<hex>" and
// also includes an OCI layout (oci-layout, index.json).
//
// Reading (plain or gzip'd tars):
//  * If the tar holds a valid OCI layout whose index.json covers every manifest.json image (an
//    image manifest reachable from index.json has that Config blob), the layout's manifests are
//    served with their exact digests. A RepoTag resolves to the index.json entry covering the
//    image; when that entry is an index whose other platforms' content docker did not save, to
//    the image manifest itself. Without manifest.json, the layout is served as is.
//  * Otherwise a Docker schema2 manifest is synthesized per manifest.json entry: config
//    application/vnd.docker.container.image.v1+json, layers .rootfs.diff.tar.gzip when the file
//    starts with the gzip magic, else .rootfs.diff.tar; digests are computed from the files.
//  * Tags are the RepoTags strings exactly ("nginx:latest"). A RepoTag that several images
//    claim (docker load would keep the last) resolves to none: kFailedPrecondition naming each
//    image's digest. Resolve("") needs exactly one image; with several, kFailedPrecondition
//    listing each as a location (docker-archive:FILE:NAME:TAG, or FILE:@DIGEST for images
//    without a tag of their own). manifest.json paths are untrusted: they are sanitized and must
//    name regular files of the archive.
//
// Writing stages an OCI layout (blobs and manifests exactly as pushed). An existing archive is
// read first (every image, its RepoTags, untagged images too), so writing adds to it as with
// oci-archive and `tag` works in place; an existing file is rewritten only when something
// changed. Tag(desc, tag) requires tag to be a tagged image name, "NAME:TAG" ("basic-auth:1.0",
// "reg.io/x/y:1.0"): `docker load` rejects RepoTags without a tag and with digests, so bare tags
// fail with kInvalidArgument. A tag the archive already has, as given or normalized ("x:1" is
// "docker.io/library/x:1"), moves to the new image; an image left without tags drops out of
// manifest.json (its blobs go when the archive is next written). Resolve("") on a writer is
// its only image, however many tags it has.
// Commit() writes oci-layout, index.json (entries carry org.opencontainers.image.ref.name =
// the tag as given and io.containerd.image.name = its normalized form, for docker's containerd
// image store), manifest.json (untagged images with "RepoTags": null, as docker save writes
// them), and blobs/ sorted by digest, deterministically. In manifest.json
// a tagged index contributes its linux/amd64 image (else its first image); Config and Layers are
// "blobs/sha256/<hex>". Images docker cannot load are refused with kFailedPrecondition (at Tag
// when the manifest is already there, else at Commit): a config media type other than the
// Docker or OCI image config (e.g. ORAS-style Wasm plugin images with
// application/vnd.unknown.config.v1+json), missing blobs, or a config whose rootfs.diff_ids do
// not match the layer count. gzip'd layers are fine: docker load decompresses them.
//
//   PLUGCTL_ASSIGN_OR_RETURN(auto src, OpenDockerArchive("saved.tar", OpenMode::kRead));
//   PLUGCTL_ASSIGN_OR_RETURN(oci::Descriptor image, src->Resolve("basic-auth:1.0"));
//
// Thread safety: as store::Target.
#pragma once

#include <filesystem>
#include <memory>

#include "plugctl/base/status.h"
#include "plugctl/store/archive_target.h"
#include "plugctl/store/target.h"

namespace plugctl::store {

// Opens `file`. kRead: kNotFound if missing; kInvalidArgument when the tar has neither
// manifest.json nor an OCI layout, or manifest.json is malformed or names files that are not
// in the archive. kWrite: kNotFound if the parent directory is missing; kFailedPrecondition if
// the file exists and is neither empty nor a docker archive; an existing archive that cannot be
// read fails as kRead would (it is never silently replaced).
[[nodiscard]] Result<std::unique_ptr<Target>> OpenDockerArchive(const std::filesystem::path& file,
                                                                OpenMode mode);

}  // namespace plugctl::store
