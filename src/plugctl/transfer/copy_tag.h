// plugctl/transfer/copy_tag.h — the tag a copy writes when the destination names none.
//
// `copy SRC DST` must not leave an image nobody can find (an OCI layout whose index.json lists
// nothing, a docker archive without RepoTags), so without a destination tag the tag comes from,
// in order:
//   1. the tag the source was named by (REPO:TAG, oci:DIR:TAG, docker-archive:FILE:NAME:TAG;
//      a registry reference with neither tag nor digest means "latest");
//   2. the source's own names for the image, when the source is local and was named without a
//      tag or by digest: a docker archive's RepoTag, a layout's or OCI archive's ref name (the
//      first in sort order when there are several);
//   3. the plugin's version from the image's metadata: the org.opencontainers.image.version
//      manifest annotation (compat/oci shapes) or config label (docker shape).
// The tag is then shaped for the destination: a registry takes the TAG of a NAME:TAG
// ("basic-auth:1.0.0" → "1.0.0"); a docker archive needs NAME:TAG, so a bare tag gets the source
// registry repository's name, else the plugin name's first path segment
// (io.higress.plugin.name, "basic-auth/v1" → "basic-auth:1.0.0"); layouts and OCI archives
// take it as it is.
//
// The chosen tag is then checked against what the destination accepts (ValidateTagFor), so a
// source name that is no valid destination tag ("UPPER/Case:TAG" into a registry) is refused
// before anything is transferred.
//
// A source named by digest copied into a registry stays untagged (it is reachable there by that
// digest). When nothing yields a tag, kFailedPrecondition with a one-line error saying how to
// name one.
//
//   PLUGCTL_ASSIGN_OR_RETURN(std::string tag, ChooseCopyTag(*src, src_loc, dst_loc));
//
// Thread safety: uses `src` from the calling thread only (Resolve, Tags, Fetch).
#pragma once

#include <string>
#include <string_view>

#include "plugctl/base/status.h"
#include "plugctl/store/target.h"
#include "plugctl/transfer/location.h"

namespace plugctl::transfer {

// The destination tag for copying `src_loc` (opened as `src`) to `dst_loc`; "" only for the
// untagged digest copy into a registry described above. Errors: kFailedPrecondition when no tag
// can be derived; errors of resolving or reading the source.
// Whether `tag` can name an image in a destination of `kind`: a registry takes the tag
// grammar of the distribution spec ([A-Za-z0-9_][A-Za-z0-9_.-]*, at most 128); a docker
// archive a tagged image name NAME:TAG without digest; layouts and OCI archives any non-empty
// ref name without control characters (what OciLayoutTarget accepts). kInvalidArgument with
// the problem, not naming the destination.
[[nodiscard]] Status ValidateTagFor(LocationKind kind, std::string_view tag);

[[nodiscard]] Result<std::string> ChooseCopyTag(store::Target& src, const Location& src_loc,
                                                const Location& dst_loc);

}  // namespace plugctl::transfer
