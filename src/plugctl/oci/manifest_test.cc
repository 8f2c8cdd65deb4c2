#include "plugctl/oci/manifest.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "plugctl/oci/media_types.h"
#include "plugctl/oci/oci_test_util.h"

namespace plugctl::oci {
namespace {

using ::testing::HasSubstr;
using testing::MakePlatform;

ImageManifestSpec SpecWithConfig(const Descriptor& config) {
  ImageManifestSpec spec;
  spec.config = config;
  return spec;
}

// Shaped like `oras push` output for an official Higress plugin image: ORAS's
// default config type, one titled layer per file, the Wasm tarball last.
constexpr std::string_view kHigressManifest = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {
    "mediaType": "application/vnd.unknown.config.v1+json",
    "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    "size": 2
  },
  "layers": [
    {
      "mediaType": "application/vnd.module.wasm.spec.v1+yaml",
      "digest": "sha256:9cfca4a1b73e1e28e30fb9b0b984aad6d4caaf0819c61ed40ad338600531f745",
      "size": 2101,
      "annotations": {
        "org.opencontainers.image.title": "spec.yaml"
      }
    },
    {
      "mediaType": "application/vnd.module.wasm.doc.v1+markdown",
      "digest": "sha256:b335630551682c19a781afebcf4d07bf978fb1f8ac04c6bf87428ed5106870f5",
      "size": 3820,
      "annotations": {
        "org.opencontainers.image.title": "README.md"
      }
    },
    {
      "mediaType": "application/vnd.module.wasm.doc.v1.EN+markdown",
      "digest": "sha256:cd16b6fe8b71c753765db6d9a05343a02db0fd5f4e0fa195969d2b6f923505ab",
      "size": 3560,
      "annotations": {
        "org.opencontainers.image.title": "README_EN.md"
      }
    },
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
      "digest": "sha256:4c8d664b24fc0bda554b5758e0f05ec4da57762f05ad4d73773650b2508936e6",
      "size": 156832,
      "annotations": {
        "org.opencontainers.image.title": "plugin.tar.gz"
      }
    }
  ],
  "annotations": {
    "org.opencontainers.image.created": "2024-05-20T08:12:33Z"
  }
})";

// Docker registry style: three-space indent, size before digest.
constexpr std::string_view kDockerManifestBody = R"({
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {
      "mediaType": "application/vnd.docker.container.image.v1+json",
      "size": 1457,
      "digest": "sha256:2c9a661f0b54072704890af0cc779b3ab98eadba1de2e6fa218d659813bfc7a5"
   },
   "layers": [
      {
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 3370706,
         "digest": "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2"
      },
      {
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 1024,
         "digest": "sha256:95cf1a2e1698fe3ca1fcc3f653119146b271d0b62e487ec264441e886a11bd06"
      }
   ]
})";

// buildx style: two platforms plus an attestation manifest.
constexpr std::string_view kOciIndexBody =
    R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)"
    R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51","size":1234,"platform":{"architecture":"amd64","os":"linux"}},)"
    R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:f69162950f235e3cdbbad33f1f912d1a504be90d8a37d002c735d6f3e3882265","size":1235,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}},)"
    R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:f745a15153c4dacf0ea4bbf57265e73283941f8335939b33c693975315cf5916","size":839,"annotations":{"vnd.docker.reference.digest":"sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51","vnd.docker.reference.type":"attestation-manifest"},"platform":{"architecture":"unknown","os":"unknown"}}],)"
    R"("annotations":{"org.opencontainers.image.version":"1.0.0"}})";

constexpr std::string_view kDockerListBody = R"({
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
   "manifests": [
      {
         "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
         "size": 7143,
         "digest": "sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51",
         "platform": {
            "architecture": "ppc64le",
            "os": "linux"
         }
      },
      {
         "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
         "size": 7682,
         "digest": "sha256:f69162950f235e3cdbbad33f1f912d1a504be90d8a37d002c735d6f3e3882265",
         "platform": {
            "architecture": "amd64",
            "os": "windows",
            "os.version": "10.0.14393.1066",
            "features": [
               "sse4"
            ]
         }
      }
   ]
})";

// Older producers omit mediaType; the spec makes it optional for OCI.
constexpr std::string_view kOciNoMediaType =
    R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.module.wasm.config.v1+json",)"
    R"("digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},)"
    R"("layers":[{"mediaType":"application/vnd.module.wasm.content.layer.v1+wasm",)"
    R"("digest":"sha256:4c8d664b24fc0bda554b5758e0f05ec4da57762f05ad4d73773650b2508936e6",)"
    R"("size":90210,"annotations":{"org.opencontainers.image.title":"plugin.wasm"}}]})";

constexpr std::string_view kD1 =
    "sha256:9cfca4a1b73e1e28e30fb9b0b984aad6d4caaf0819c61ed40ad338600531f745";

Manifest MustParse(std::string_view raw, std::string_view content_type = "") {
  Result<Manifest> m = Manifest::Parse(std::string(raw), content_type);
  EXPECT_TRUE(m) << m.error().message();
  return m ? *std::move(m) : Manifest{};
}

void ExpectInvalid(std::string_view raw, std::string_view want, std::string_view content_type = "",
                   ErrorCode code = ErrorCode::kInvalidArgument) {
  Result<Manifest> m = Manifest::Parse(std::string(raw), content_type);
  ASSERT_FALSE(m) << raw.substr(0, 200);
  EXPECT_EQ(m.error().code(), code) << m.error().message();
  EXPECT_THAT(m.error().message(), HasSubstr(want)) << raw.substr(0, 200);
}

TEST(ManifestParseTest, HigressOrasManifest) {
  Manifest m = MustParse(kHigressManifest);
  EXPECT_EQ(m.kind, ManifestKind::kOciManifest);
  EXPECT_EQ(m.media_type, kOciManifest);
  EXPECT_FALSE(m.is_index());
  ASSERT_TRUE(m.config);
  EXPECT_EQ(m.config->media_type, kUnknownConfig);
  EXPECT_EQ(m.config->digest, Digest::Of("{}"));
  EXPECT_EQ(m.config->size, 2);
  ASSERT_EQ(m.layers.size(), 4u);
  EXPECT_EQ(m.layers[0].media_type, kWasmSpec);
  EXPECT_EQ(m.layers[0].Title(), "spec.yaml");
  EXPECT_EQ(m.layers[0].digest.ToString(), kD1);
  EXPECT_EQ(m.layers[2].media_type, "application/vnd.module.wasm.doc.v1.EN+markdown");
  EXPECT_EQ(m.layers[2].Title(), "README_EN.md");
  EXPECT_EQ(m.layers[3].media_type, kOciLayerTarGzip);
  EXPECT_EQ(m.layers[3].size, 156832);
  EXPECT_EQ(m.layers[3].Title(), "plugin.tar.gz");
  EXPECT_TRUE(m.manifests.empty());
  EXPECT_FALSE(m.subject);
  EXPECT_EQ(m.annotations.at(std::string(kAnnotationCreated)), "2024-05-20T08:12:33Z");
  EXPECT_EQ(m.raw, kHigressManifest);
  EXPECT_EQ(m.digest, Digest::Of(kHigressManifest));

  Descriptor d = m.ToDescriptor();
  EXPECT_EQ(d.media_type, kOciManifest);
  EXPECT_EQ(d.digest, m.digest);
  EXPECT_EQ(d.size, static_cast<int64_t>(kHigressManifest.size()));
}

TEST(ManifestParseTest, ReferrerDescriptorTakesArtifactTypeElseConfigType) {
  const std::string config = R"({"mediaType":"application/x-sig-config","digest":"sha256:)" +
                             std::string(64, 'a') + R"(","size":2})";
  auto with_type = Manifest::Parse(
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("artifactType":"application/x-sig","config":)" +
      config + R"(,"layers":[],"annotations":{"k":"v"}})");
  ASSERT_TRUE(with_type.has_value()) << with_type.error().message();
  const Digest stored = Digest::Of("stored elsewhere");
  Descriptor d = with_type->ReferrerDescriptor(stored);
  EXPECT_EQ(d.digest, stored);
  EXPECT_EQ(d.media_type, "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(d.size, static_cast<int64_t>(with_type->raw.size()));
  EXPECT_EQ(d.artifact_type, "application/x-sig");
  EXPECT_EQ(d.annotations.at("k"), "v");

  auto without = Manifest::Parse(
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
      config + R"(,"layers":[]})");
  ASSERT_TRUE(without.has_value()) << without.error().message();
  EXPECT_EQ(without->ReferrerDescriptor(stored).artifact_type, "application/x-sig-config");
}

TEST(ManifestParseTest, MatchingContentTypeIsCaseInsensitive) {
  Manifest m = MustParse(kHigressManifest, "Application/VND.OCI.image.manifest.v1+json");
  EXPECT_EQ(m.kind, ManifestKind::kOciManifest);
  // The body's own spelling is kept.
  EXPECT_EQ(m.media_type, kOciManifest);
}

TEST(ManifestParseTest, ContentTypeParametersAreIgnored) {
  Manifest m =
      MustParse(kOciNoMediaType, "application/vnd.oci.image.manifest.v1+json; charset=utf-8");
  EXPECT_EQ(m.media_type, kOciManifest);
  ExpectInvalid(kHigressManifest, "mismatch", "application/vnd.oci.image.index.v1+json; q=1");
}

TEST(ManifestParseTest, NonManifestContentTypeIsIgnored) {
  for (std::string_view ct : {"application/json", "application/octet-stream", "text/plain"}) {
    Manifest m = MustParse(kHigressManifest, ct);
    EXPECT_EQ(m.kind, ManifestKind::kOciManifest) << ct;
  }
}

TEST(ManifestParseTest, DockerSchema2) {
  Manifest m = MustParse(kDockerManifestBody);
  EXPECT_EQ(m.kind, ManifestKind::kDockerManifest);
  EXPECT_EQ(m.media_type, kDockerManifest);
  ASSERT_TRUE(m.config);
  EXPECT_EQ(m.config->media_type, kDockerConfig);
  EXPECT_EQ(m.config->size, 1457);
  ASSERT_EQ(m.layers.size(), 2u);
  EXPECT_EQ(m.layers[0].media_type, kDockerLayerTarGzip);
  EXPECT_EQ(m.layers[0].size, 3370706);
  EXPECT_EQ(m.digest, Digest::Of(kDockerManifestBody));
  EXPECT_EQ(m.ToDescriptor().media_type, kDockerManifest);
}

TEST(ManifestParseTest, OciIndexWithPlatforms) {
  Manifest m = MustParse(kOciIndexBody, kOciIndex);
  EXPECT_EQ(m.kind, ManifestKind::kOciIndex);
  EXPECT_TRUE(m.is_index());
  EXPECT_FALSE(m.config);
  EXPECT_TRUE(m.layers.empty());
  ASSERT_EQ(m.manifests.size(), 3u);
  ASSERT_TRUE(m.manifests[0].platform);
  EXPECT_EQ(m.manifests[0].platform->ToString(), "linux/amd64");
  ASSERT_TRUE(m.manifests[1].platform);
  EXPECT_EQ(m.manifests[1].platform->variant, "v8");
  EXPECT_EQ(m.manifests[1].size, 1235);
  EXPECT_EQ(m.manifests[2].annotations.at("vnd.docker.reference.type"), "attestation-manifest");
  EXPECT_EQ(m.annotations.at(std::string(kAnnotationVersion)), "1.0.0");
  EXPECT_EQ(m.digest, Digest::Of(kOciIndexBody));
}

TEST(ManifestParseTest, DockerManifestList) {
  Manifest m = MustParse(kDockerListBody);
  EXPECT_EQ(m.kind, ManifestKind::kDockerManifestList);
  EXPECT_TRUE(m.is_index());
  ASSERT_EQ(m.manifests.size(), 2u);
  EXPECT_EQ(m.manifests[0].media_type, kDockerManifest);
  ASSERT_TRUE(m.manifests[1].platform);
  EXPECT_EQ(m.manifests[1].platform->os, "windows");
  EXPECT_EQ(m.manifests[1].platform->os_version, "10.0.14393.1066");
}

TEST(ManifestParseTest, OciManifestWithoutMediaTypeIsInferred) {
  Manifest m = MustParse(kOciNoMediaType);
  EXPECT_EQ(m.kind, ManifestKind::kOciManifest);
  EXPECT_EQ(m.media_type, kOciManifest);
  ASSERT_EQ(m.layers.size(), 1u);
  EXPECT_EQ(m.layers[0].media_type, kWasmContentLayer);
  EXPECT_EQ(m.config->media_type, kWasmConfig);
}

TEST(ManifestParseTest, ContentTypeDecidesWhenBodyIsSilent) {
  Manifest m = MustParse(kOciNoMediaType, kDockerManifest);
  EXPECT_EQ(m.kind, ManifestKind::kDockerManifest);
  EXPECT_EQ(m.media_type, kDockerManifest);
}

TEST(ManifestParseTest, IndexWithoutMediaTypeIsInferred) {
  Manifest m = MustParse(R"({"schemaVersion":2,"manifests":[]})");
  EXPECT_EQ(m.kind, ManifestKind::kOciIndex);
  EXPECT_EQ(m.media_type, kOciIndex);
}

TEST(ManifestParseTest, DigestIsOverExactBytes) {
  std::string odd =
      "\n\t {  \"layers\" :[ ],\r\n\"schemaVersion\"  : 2 , \"config\":{\"size\":2,"
      "\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaf"
      "f8a\",\"mediaType\":\"application/vnd.oci.empty.v1+json\"}}  \n\n";
  Manifest m = MustParse(odd);
  EXPECT_EQ(m.raw, odd);
  EXPECT_EQ(m.digest, Digest::Of(odd));
  EXPECT_EQ(m.ToDescriptor().size, static_cast<int64_t>(odd.size()));
  EXPECT_TRUE(m.layers.empty());

  Manifest compact = MustParse(BuildImageManifest(SpecWithConfig(*m.config)));
  EXPECT_EQ(compact.config, m.config);
  EXPECT_NE(compact.digest, m.digest);
}

TEST(ManifestParseTest, ArtifactWithSubject) {
  std::string body = fmt::format(
      R"({{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("artifactType":"application/vnd.example.sbom","config":{{"mediaType":"{}",)"
      R"("digest":"{}","size":2}},"layers":[],"subject":{{"mediaType":"{}","digest":"{}",)"
      R"("size":1234}},"annotations":null}})",
      kOciEmpty, Digest::Of("{}").ToString(), kOciManifest, kD1);
  Manifest m = MustParse(body);
  EXPECT_EQ(m.artifact_type, "application/vnd.example.sbom");
  EXPECT_TRUE(m.layers.empty());
  ASSERT_TRUE(m.subject);
  EXPECT_EQ(m.subject->digest.ToString(), kD1);
  EXPECT_TRUE(m.annotations.empty());
}

TEST(ManifestParseTest, SizeLimit) {
  std::string big(kMaxManifestBytes + 1, ' ');
  ExpectInvalid(big, "limit", "", ErrorCode::kResourceExhausted);

  // Exactly at the limit is still accepted.
  std::string at_limit(kOciNoMediaType);
  at_limit.resize(kMaxManifestBytes, ' ');
  Manifest m = MustParse(at_limit);
  EXPECT_EQ(m.raw.size(), kMaxManifestBytes);
  EXPECT_EQ(m.digest, Digest::Of(at_limit));
}

TEST(ManifestParseTest, RejectsInvalidJson) {
  ExpectInvalid("", "invalid manifest: not valid JSON");
  ExpectInvalid("{", "not valid JSON");
  ExpectInvalid(R"({"schemaVersion":2,})", "not valid JSON");
  ExpectInvalid(std::string(kHigressManifest) + "x", "not valid JSON");
  ExpectInvalid("[]", "expected a JSON object, got array");
  ExpectInvalid("2", "expected a JSON object, got number");
}

TEST(ManifestParseTest, RejectsSchemaVersion) {
  ExpectInvalid(R"({"config":{},"layers":[]})", "schemaVersion: missing");
  ExpectInvalid(R"({"schemaVersion":"2","layers":[]})", "schemaVersion: expected an integer");
  ExpectInvalid(R"({"schemaVersion":2.0,"layers":[]})", "schemaVersion: expected an integer");
  // Docker schema1 (signed, "fsLayers").
  ExpectInvalid(R"({"schemaVersion":1,"name":"library/nginx","tag":"1","fsLayers":[]})",
                "schemaVersion: unsupported value 1");
  ExpectInvalid(R"({"schemaVersion":3,"layers":[]})", "unsupported value 3");
}

TEST(ManifestParseTest, RejectsMediaTypes) {
  ExpectInvalid(
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v1+prettyjws"})",
      "unsupported manifest media type "
      "\"application/vnd.docker.distribution.manifest.v1+prettyjws\"");
  ExpectInvalid(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.config.v1+json"})",
                "unsupported manifest media type");
  ExpectInvalid(R"({"schemaVersion":2,"mediaType":7,"layers":[]})",
                "mediaType: expected a string, got number");
  ExpectInvalid(kHigressManifest, "media type mismatch", kOciIndex);
  ExpectInvalid(kDockerManifestBody, "media type mismatch", kOciManifest);
  ExpectInvalid(kOciIndexBody, "media type mismatch", kDockerManifestList);
}

TEST(ManifestParseTest, RejectsShapeProblems) {
  ExpectInvalid(R"({"schemaVersion":2})", "cannot tell manifest from index");
  ExpectInvalid(R"({"schemaVersion":2,"manifests":[],"layers":[]})",
                "both \"manifests\" and \"layers\"");
  ExpectInvalid(R"({"schemaVersion":2,"layers":[]})", "invalid manifest: config: missing");
  ExpectInvalid(
      fmt::format(R"({{"schemaVersion":2,"config":{{"mediaType":"a/b","digest":"{}","size":1}}}})",
                  kD1),
      "invalid manifest: layers: missing");
  ExpectInvalid(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json"})",
                "manifests: missing");
  ExpectInvalid(R"({"schemaVersion":2,"manifests":{}})",
                "manifests: expected an array, got object");
  ExpectInvalid(
      fmt::format(
          R"({{"schemaVersion":2,"config":{{"mediaType":"a/b","digest":"{}","size":1}},"layers":{{}}}})",
          kD1),
      "layers: expected an array, got object");
  ExpectInvalid(R"({"schemaVersion":2,"config":"x","layers":[]})",
                "config: expected a descriptor object, got string");
  ExpectInvalid(R"({"schemaVersion":2,"manifests":[1]})",
                "manifests[0]: expected a descriptor object, got number");
}

TEST(ManifestParseTest, ErrorsNameTheField) {
  std::string bad_digest(kHigressManifest);
  size_t pos = bad_digest.find("sha256:b3356305");
  ASSERT_NE(pos, std::string::npos);
  bad_digest.replace(pos, 15, "sha256:B3356305");
  ExpectInvalid(bad_digest, "invalid manifest: layers[1].digest: invalid digest");

  std::string short_digest(kHigressManifest);
  pos = short_digest.find("sha256:b3356305");
  short_digest.replace(pos, 71, "x");
  ExpectInvalid(short_digest,
                "invalid manifest: layers[1].digest: invalid digest \"x\": expected algorithm:hex");

  std::string negative(kHigressManifest);
  pos = negative.find("\"size\": 2101");
  ASSERT_NE(pos, std::string::npos);
  negative.replace(pos, 12, "\"size\": -2101");
  ExpectInvalid(negative, "layers[0].size: must be non-negative, got -2101");

  std::string float_size(kHigressManifest);
  pos = float_size.find("\"size\": 2\n");
  ASSERT_NE(pos, std::string::npos);
  float_size.replace(pos, 9, "\"size\": 2.5");
  ExpectInvalid(float_size, "config.size: expected a non-negative integer");

  ExpectInvalid(fmt::format(R"({{"schemaVersion":2,"manifests":[],"subject":{{"mediaType":"a/b",)"
                            R"("digest":"{}"}}}})",
                            kD1),
                "subject.size: missing");
  ExpectInvalid(R"({"schemaVersion":2,"manifests":[],"annotations":{"a":1}})",
                "annotations[\"a\"]: expected a string");
  ExpectInvalid(R"({"schemaVersion":2,"manifests":[],"annotations":[]})",
                "annotations: expected an object");
  ExpectInvalid(R"({"schemaVersion":2,"manifests":[],"artifactType":1})",
                "artifactType: expected a string");
}

// --- Building ---------------------------------------------------------------

ImageManifestSpec SmallSpec() {
  ImageManifestSpec spec;
  spec.config = Descriptor::For(kOciEmpty, "{}");
  Descriptor layer = Descriptor::For(kWasmContentLayer, "abc");
  layer.annotations[std::string(kAnnotationTitle)] = "plugin.wasm";
  spec.layers.push_back(layer);
  spec.annotations["b"] = "2";
  spec.annotations["a"] = "1";
  return spec;
}

TEST(BuildImageManifestTest, ExactBytes) {
  EXPECT_EQ(
      BuildImageManifest(SmallSpec()),
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.empty.v1+json",)"
      R"("digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",)"
      R"("size":2},"layers":[{"mediaType":"application/vnd.module.wasm.content.layer.v1+wasm",)"
      R"("digest":"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",)"
      R"("size":3,"annotations":{"org.opencontainers.image.title":"plugin.wasm"}}],)"
      R"("annotations":{"a":"1","b":"2"}})");
}

TEST(BuildImageManifestTest, KeyOrderWithArtifactTypeAndSubject) {
  ImageManifestSpec spec;
  spec.artifact_type = "application/vnd.example";
  spec.config = Descriptor::For(kOciEmpty, "{}");
  spec.subject = Descriptor::For(kOciManifest, "abc");
  EXPECT_EQ(BuildImageManifest(spec),
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
            R"("artifactType":"application/vnd.example",)"
            R"("config":{"mediaType":"application/vnd.oci.empty.v1+json",)"
            R"("digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",)"
            R"("size":2},"layers":[],)"
            R"("subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
            R"("digest":"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",)"
            R"("size":3}})");
}

TEST(BuildImageManifestTest, IsByteStable) {
  EXPECT_EQ(BuildImageManifest(SmallSpec()), BuildImageManifest(SmallSpec()));
}

TEST(BuildImageManifestTest, RoundTrips) {
  ImageManifestSpec spec = SmallSpec();
  spec.artifact_type = "application/vnd.module.wasm.config.v1+json";
  spec.subject = Descriptor::For(kOciManifest, "parent");
  Descriptor platformed = Descriptor::For(kOciLayerTarGzip, "x");
  platformed.urls = {"https://example.com/x"};
  platformed.platform = MakePlatform("wasip1", "wasm");
  spec.layers.push_back(platformed);

  std::string raw = BuildImageManifest(spec);
  Manifest m = MustParse(raw, kOciManifest);
  EXPECT_EQ(m.kind, ManifestKind::kOciManifest);
  EXPECT_EQ(m.config, spec.config);
  EXPECT_EQ(m.layers, spec.layers);
  EXPECT_EQ(m.subject, spec.subject);
  EXPECT_EQ(m.annotations, spec.annotations);
  EXPECT_EQ(m.artifact_type, spec.artifact_type);
  EXPECT_EQ(m.digest, Digest::Of(raw));
}

TEST(BuildImageManifestTest, DockerOmitsOciOnlyFields) {
  ImageManifestSpec spec = SmallSpec();
  spec.media_type = std::string(kDockerManifest);
  spec.artifact_type = "application/vnd.example";
  spec.subject = Descriptor::For(kOciManifest, "parent");
  std::string raw = BuildImageManifest(spec);
  EXPECT_EQ(raw.find("artifactType"), std::string::npos);
  EXPECT_EQ(raw.find("subject"), std::string::npos);
  EXPECT_EQ(raw.find("\"annotations\":{\"a\""), std::string::npos);
  Manifest m = MustParse(raw);
  EXPECT_EQ(m.kind, ManifestKind::kDockerManifest);
  EXPECT_EQ(m.layers, spec.layers);  // layer annotations stay
  EXPECT_FALSE(m.subject);
  EXPECT_TRUE(m.annotations.empty());
}

TEST(BuildImageManifestTest, InvalidUtf8DoesNotThrow) {
  ImageManifestSpec spec = SmallSpec();
  spec.annotations["bad"] = "\xff\xfe";
  std::string raw = BuildImageManifest(spec);
  EXPECT_TRUE(Manifest::Parse(raw));
}

TEST(BuildIndexTest, ExactBytesAndRoundTrip) {
  IndexSpec spec;
  Descriptor d = Descriptor::For(kOciManifest, "abc");
  d.platform = MakePlatform("linux", "amd64");
  spec.manifests.push_back(d);
  spec.annotations[std::string(kAnnotationRefName)] = "1.0.0";
  std::string raw = BuildIndex(spec);
  EXPECT_EQ(raw,
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
            R"("manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
            R"("digest":"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",)"
            R"("size":3,"platform":{"architecture":"amd64","os":"linux"}}],)"
            R"("annotations":{"org.opencontainers.image.ref.name":"1.0.0"}})");
  Manifest m = MustParse(raw);
  EXPECT_EQ(m.kind, ManifestKind::kOciIndex);
  EXPECT_EQ(m.manifests, spec.manifests);
  EXPECT_EQ(m.annotations, spec.annotations);
}

TEST(BuildIndexTest, EmptyAndDockerList) {
  EXPECT_EQ(BuildIndex({}),
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
            R"("manifests":[]})");
  IndexSpec spec;
  spec.media_type = std::string(kDockerManifestList);
  spec.manifests = {Descriptor::For(kDockerManifest, "abc")};
  spec.annotations = {{"a", "b"}};
  std::string raw = BuildIndex(spec);
  EXPECT_EQ(raw.find("annotations"), std::string::npos);
  Manifest m = MustParse(raw);
  EXPECT_EQ(m.kind, ManifestKind::kDockerManifestList);
  EXPECT_EQ(m.manifests, spec.manifests);
}

}  // namespace
}  // namespace plugctl::oci
