#include "plugctl/transfer/mirror.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "plugctl/base/file.h"
#include "plugctl/oci/manifest.h"
#include "plugctl/oci/media_types.h"
#include "plugctl/oci/plugin_name.h"
#include "plugctl/store/memory_target.h"
#include "plugctl/store/oci_layout.h"
#include "plugctl/transfer/copy.h"

namespace plugctl::transfer {
namespace {

oci::Reference Ref(std::string_view text) {
  auto r = oci::Reference::Parse(text);
  EXPECT_TRUE(r.has_value()) << text;
  return *r;
}

std::string Map(std::string_view source, std::string_view prefix, const NameMapping& mapping) {
  auto mapped = MapRepository(Ref(source), prefix, mapping);
  return mapped ? *mapped : "error: " + mapped.error().message();
}

TEST(MapRepositoryTest, DefaultKeepsTheLastComponentUnderThePrefix) {
  NameMapping m;
  EXPECT_EQ(
      Map("higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins/basic-auth:1.0.0", "plugins", m),
      "plugins/basic-auth");
  EXPECT_EQ(Map("reg.io/a/b/c:1", "", m), "c");
  EXPECT_EQ(Map("reg.io/c:1", "x/y", m), "x/y/c");
}

TEST(MapRepositoryTest, ScopedKeepsHostAndPath) {
  NameMapping m{.scoped = true};
  EXPECT_EQ(Map("reg.io/plugins/key-auth:1", "mirror", m), "mirror/reg.io/plugins/key-auth");
  EXPECT_EQ(Map("Reg.io:5000/plugins/key-auth:1", "", m), "reg.io-5000/plugins/key-auth");
}

TEST(MapRepositoryTest, LongestRuleWinsAtPathBoundaries) {
  NameMapping m;
  m.rules.emplace_back("reg.io/plugins", "higress");
  m.rules.emplace_back("reg.io/plugins/ai-rag", "ai/rag");
  m.rules.emplace_back("other", "o");  // matches the path "other/…", not "otherwise"
  EXPECT_EQ(Map("reg.io/plugins/basic-auth:1", "p", m), "p/higress/basic-auth");
  EXPECT_EQ(Map("reg.io/plugins/ai-rag:1", "p", m), "p/ai/rag");
  EXPECT_EQ(Map("reg.io/pluginsx/y:1", "p", m), "p/y");  // no rule: default
  EXPECT_EQ(Map("x.io/other/z:1", "", m), "o/z");
  EXPECT_EQ(Map("x.io/otherwise/z:1", "", m), "z");
}

TEST(DestinationForTest, LocalDestinationsNameImagesByFullReference) {
  auto layout = ParseMirrorDestination("oci:/tmp/bundle");
  ASSERT_TRUE(layout.has_value());
  auto by_tag = DestinationFor(Ref("reg.io/plugins/x:1.0"), *layout, {});
  ASSERT_TRUE(by_tag.has_value());
  EXPECT_EQ(by_tag->ToString(), "oci:/tmp/bundle:reg.io/plugins/x:1.0");
  const std::string digest = "sha256:" + std::string(64, 'a');
  auto by_digest = DestinationFor(Ref("reg.io/plugins/x@" + digest), *layout, {});
  ASSERT_TRUE(by_digest.has_value());
  EXPECT_EQ(by_digest->ref, "reg.io/plugins/x@" + digest);

  auto docker = ParseMirrorDestination("docker-archive:/tmp/b.tar");
  ASSERT_TRUE(docker.has_value());
  auto refused = DestinationFor(Ref("reg.io/plugins/x@" + digest), *docker, {});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
}

TEST(DestinationForTest, RegistryDestinationsMapTheRepositoryAndKeepTheTag) {
  auto dest = ParseMirrorDestination("docker://reg.local:5000/mirror/");
  ASSERT_TRUE(dest.has_value());
  EXPECT_TRUE(dest->is_registry());
  EXPECT_EQ(dest->ToString(), "reg.local:5000/mirror");
  auto loc = DestinationFor(Ref("reg.io/plugins/basic-auth:2.0"), *dest, {});
  ASSERT_TRUE(loc.has_value());
  EXPECT_EQ(loc->kind, LocationKind::kRegistry);
  EXPECT_EQ(loc->reference.ToString(), "reg.local:5000/mirror/basic-auth:2.0");
}

TEST(MapBundleNameTest, PrefixAndFullNameRules) {
  auto named = [](std::string_view source, const NameMapping& m) {
    auto r = MapBundleName(Ref(source), m);
    return r ? r->ToString() : "error: " + r.error().message();
  };
  EXPECT_EQ(named("reg.io/plugins/x:1.0", {}), "reg.io/plugins/x:1.0");
  NameMapping prefix;
  prefix.bundle_registry = "reg.local:5000";
  prefix.bundle_path = "plugins";
  EXPECT_EQ(named("reg.io/plugins/x:1.0", prefix), "reg.local:5000/plugins/x:1.0");
  prefix.rules = {{"reg.io/team", "team"}};
  EXPECT_EQ(named("reg.io/team/auth:2", prefix), "reg.local:5000/plugins/team/auth:2");
  NameMapping rules;
  rules.rules = {{"reg.io/plugins", "private.io/p"}, {"reg.io", "other.io"}};
  EXPECT_EQ(named("reg.io/plugins/x:1.0", rules), "private.io/p/x:1.0");
  EXPECT_EQ(named("reg.io/a/b:1", rules), "other.io/a/b:1");
  EXPECT_EQ(named("docker.io/library/y:1", rules), "docker.io/library/y:1");
  rules.rules = {{"reg.io/plugins", "Bad Name"}};
  EXPECT_NE(named("reg.io/plugins/x:1", rules).find("error: "), std::string::npos);
}

TEST(DestinationForTest, BundlePrefixNamesLocalDestinations) {
  auto docker = ParseMirrorDestination("docker-archive:/tmp/x.tar");
  ASSERT_TRUE(docker.has_value());
  NameMapping m;
  m.bundle_registry = "reg.local:5000";
  m.bundle_path = "plugins";
  auto loc = DestinationFor(Ref("higress-registry.cn-hangzhou.cr.aliyuncs.com/plugins/key-auth:1"),
                            *docker, m);
  ASSERT_TRUE(loc.has_value()) << loc.error().message();
  EXPECT_EQ(loc->ref, "reg.local:5000/plugins/key-auth:1");
}

TEST(MapRepositoryTest, ParseMappingRule) {
  auto rule = ParseMappingRule("oci://reg.io/plugins=higress/");
  ASSERT_TRUE(rule.has_value());
  EXPECT_EQ(rule->first, "reg.io/plugins");
  EXPECT_EQ(rule->second, "higress");
  EXPECT_FALSE(ParseMappingRule("no-equals").has_value());
  EXPECT_FALSE(ParseMappingRule("=x").has_value());
}

TEST(MirrorDestinationTest, RegistryPrefixes) {
  auto d = ParseMirrorDestination("registry.local:5000/plugins");
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_TRUE(d->is_registry());
  EXPECT_EQ(d->location.reference.registry, "registry.local:5000");
  EXPECT_EQ(d->prefix, "plugins");
  EXPECT_EQ(d->ToString(), "registry.local:5000/plugins");

  d = ParseMirrorDestination("oci://127.0.0.1:5000/");
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(d->prefix, "");
  EXPECT_EQ(d->ToString(), "127.0.0.1:5000");

  EXPECT_FALSE(ParseMirrorDestination("plugins").has_value());  // no host
  EXPECT_FALSE(ParseMirrorDestination("reg.io/plugins:1.0").has_value());
  EXPECT_FALSE(ParseMirrorDestination("reg.io/Plugins").has_value());
}

TEST(MirrorDestinationTest, LocalBundlesTakeNoTag) {
  auto d = ParseMirrorDestination("oci-archive:/tmp/bundle.tar");
  ASSERT_TRUE(d.has_value());
  EXPECT_FALSE(d->is_registry());
  EXPECT_EQ(d->location.kind, LocationKind::kOciArchive);
  auto tagged = ParseMirrorDestination("oci:/tmp/x:1.0");
  ASSERT_FALSE(tagged.has_value());
  EXPECT_NE(tagged.error().message().find("full reference"), std::string::npos);
}

TEST(MirrorDestinationTest, PluginServerTrees) {
  auto d = ParseMirrorDestination("plugin-server:/srv/www/plugins");
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->is_plugin_server());
  EXPECT_FALSE(d->is_registry());
  EXPECT_EQ(d->ToString(), "plugin-server:/srv/www/plugins");
  EXPECT_FALSE(ParseMirrorDestination("plugin-server:").has_value());
  // Elsewhere it is no location.
  auto loc = ParseLocation("plugin-server:/srv/www/plugins");
  ASSERT_FALSE(loc.has_value());
  EXPECT_NE(loc.error().message().find("plugctl mirror --to"), std::string::npos);
}

std::string ServerPath(std::string_view source, std::string_view key,
                       const NameMapping& mapping = {}) {
  auto path = PluginServerPathFor(Ref(source), key, "/t", mapping);
  return path ? path->ToString() : "error: " + path.error().message();
}

TEST(PluginServerPathTest, KeyElseLastComponentAndTag) {
  EXPECT_EQ(ServerPath("reg.io/plugins/basic-auth:1.0.0", ""), "plugin-server:/t/basic-auth/1.0.0");
  EXPECT_EQ(ServerPath("reg.io/plugins/jsonrpc-converter:1.0.0", "json-converter"),
            "plugin-server:/t/json-converter/1.0.0");
  // An unusable key falls back to the repository's name.
  EXPECT_EQ(ServerPath("reg.io/plugins/x:1", "../../etc"), "plugin-server:/t/x/1");
  EXPECT_NE(ServerPath("reg.io/plugins/x@sha256:" + std::string(64, 'a'), "").find("only a digest"),
            std::string::npos);
}

TEST(PluginServerPathTest, MapRulesNameTheirPlugin) {
  NameMapping m;
  m.rules.emplace_back("json-converter", "jc");           // a plugin name
  m.rules.emplace_back("reg.io/plugins/key-auth", "ka");  // a whole repository
  m.rules.emplace_back("team/auth", "team-auth");         // a path
  m.rules.emplace_back("reg.io/plugins", "p");            // a prefix: not a plugin-server rule
  m.rules.emplace_back("bad", "../x");
  EXPECT_EQ(ServerPath("reg.io/plugins/jsonrpc-converter:1", "json-converter", m),
            "plugin-server:/t/jc/1");
  EXPECT_EQ(ServerPath("reg.io/plugins/key-auth:1", "", m), "plugin-server:/t/ka/1");
  EXPECT_EQ(ServerPath("reg.io/team/auth:2", "", m), "plugin-server:/t/team-auth/2");
  EXPECT_EQ(ServerPath("reg.io/plugins/basic-auth:1", "", m), "plugin-server:/t/basic-auth/1");
  EXPECT_NE(ServerPath("reg.io/plugins/bad:1", "", m).find("not two safe path segments"),
            std::string::npos);
}

// A layout "bundle" with images named by full reference, as mirror writes them.
class MirrorBundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("mirror-test-");
    ASSERT_TRUE(dir.has_value());
    tmp_ = std::move(*dir);
  }

  std::string Path(std::string_view name) const { return (tmp_->path() / name).string(); }

  oci::Descriptor AddImage(store::OciLayoutTarget& layout, const std::string& name,
                           const std::string& content, oci::Annotations annotations = {}) {
    store::MemoryTarget mem("mem");
    oci::ImageManifestSpec spec;
    spec.annotations = std::move(annotations);
    spec.config = mem.Put(oci::kUnknownConfig, "{}");
    spec.layers.push_back(mem.Put(oci::kOciLayerTarGzip, content));
    oci::Descriptor manifest = mem.Put(oci::kOciManifest, oci::BuildImageManifest(spec));
    auto copied = CopyGraph(mem, manifest, layout, {.tags = {name}});
    EXPECT_TRUE(copied.has_value()) << copied.error().message();
    return manifest;
  }

  std::unique_ptr<TempDir> tmp_;
};

TEST_F(MirrorBundleTest, LayoutToLayoutKeepsDigestsAndIsIncremental) {
  auto src = store::OciLayoutTarget::Open(Path("src"), {.create = true});
  ASSERT_TRUE(src.has_value());
  oci::Descriptor a = AddImage(**src, "reg.io/plugins/a:1.0.0", "aaaa");
  oci::Descriptor b = AddImage(**src, "reg.io/plugins/b:2.0.0", "bbbb");

  auto bundle = ParseLocation("oci:" + Path("src"));
  auto dest = ParseMirrorDestination("oci:" + Path("dst"));
  ASSERT_TRUE(bundle.has_value() && dest.has_value());
  MirrorOptions options;
  options.check_gateway = false;
  auto plan = PlanMirror({}, {*bundle}, *dest, options, {});
  ASSERT_TRUE(plan.has_value()) << plan.error().message();
  ASSERT_EQ(plan->items.size(), 2u);

  auto report = RunMirror(*plan, options, {});
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_EQ(report->copied, 2u);
  EXPECT_EQ(report->failed, 0u);

  auto dst = store::OciLayoutTarget::Open(Path("dst"));
  ASSERT_TRUE(dst.has_value());
  auto ra = (*dst)->Resolve("reg.io/plugins/a:1.0.0");
  auto rb = (*dst)->Resolve("reg.io/plugins/b:2.0.0");
  ASSERT_TRUE(ra.has_value() && rb.has_value());
  EXPECT_EQ(ra->digest, a.digest);
  EXPECT_EQ(rb->digest, b.digest);

  // A second run finds everything in place and moves nothing.
  auto again = RunMirror(*plan, options, {});
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->copied, 0u);
  EXPECT_EQ(again->up_to_date, 2u);
  EXPECT_EQ(again->bytes_copied, 0u);

  // Dry run into a bundle that does not exist: everything would be copied, nothing written.
  auto dry_dest = ParseMirrorDestination("oci-archive:" + Path("none.tar"));
  ASSERT_TRUE(dry_dest.has_value());
  MirrorOptions dry = options;
  dry.dry_run = true;
  auto dry_plan = PlanMirror({}, {*bundle}, *dry_dest, dry, {});
  ASSERT_TRUE(dry_plan.has_value());
  auto dry_report = RunMirror(*dry_plan, dry, {});
  ASSERT_TRUE(dry_report.has_value()) << dry_report.error().message();
  for (const auto& item : dry_report->items) {
    EXPECT_EQ(item.state, MirrorItemResult::State::kWouldCopy);
  }
  EXPECT_FALSE(std::filesystem::exists(Path("none.tar")));
}

TEST_F(MirrorBundleTest, FirstFailureStopsTheRunUnlessKeepGoing) {
  auto src = store::OciLayoutTarget::Open(Path("src"), {.create = true});
  ASSERT_TRUE(src.has_value());
  AddImage(**src, "reg.io/plugins/a:1", "aaaa");
  AddImage(**src, "reg.io/plugins/b:1", "bbbb");
  AddImage(**src, "reg.io/plugins/c:1", "cccc");
  // b's layer no longer matches its digest.
  store::MemoryTarget mem;
  const std::string hex = mem.Put(oci::kOciLayerTarGzip, "bbbb").digest.hex();
  const std::filesystem::path blob = std::filesystem::path(Path("src")) / "blobs/sha256" / hex;
  std::filesystem::remove(blob);
  ASSERT_TRUE(WriteFileAtomic(blob, "BBBB").has_value());

  auto bundle = ParseLocation("oci:" + Path("src"));
  ASSERT_TRUE(bundle.has_value());
  MirrorOptions options;
  options.check_gateway = false;
  options.jobs = 1;
  for (bool keep_going : {false, true}) {
    SCOPED_TRACE(keep_going ? "keep going" : "stop");
    const std::string dst_dir = Path(keep_going ? "dst-keep" : "dst-stop");
    auto dest = ParseMirrorDestination("oci:" + dst_dir);
    ASSERT_TRUE(dest.has_value());
    options.keep_going = keep_going;
    auto plan = PlanMirror({}, {*bundle}, *dest, options, {});
    ASSERT_TRUE(plan.has_value()) << plan.error().message();
    ASSERT_EQ(plan->items.size(), 3u);
    std::vector<std::string> finished;
    options.on_item = [&](const MirrorItemResult& r) {
      finished.push_back(r.item.name.repository);
    };
    auto report = RunMirror(*plan, options, {});
    auto dst = store::OciLayoutTarget::Open(dst_dir);
    ASSERT_TRUE(dst.has_value());
    if (!keep_going) {
      ASSERT_FALSE(report.has_value());
      EXPECT_EQ(report.error().code(), ErrorCode::kDataLoss) << report.error().message();
      // a was copied and stays; nothing started after b failed.
      EXPECT_EQ(finished, (std::vector<std::string>{"plugins/a", "plugins/b"}));
      EXPECT_TRUE((*dst)->Resolve("reg.io/plugins/a:1").has_value());
      EXPECT_FALSE((*dst)->Resolve("reg.io/plugins/c:1").has_value());
    } else {
      ASSERT_TRUE(report.has_value()) << report.error().message();
      EXPECT_EQ(report->copied, 2u);
      EXPECT_EQ(report->failed, 1u);
      EXPECT_EQ(finished.size(), 3u);
      EXPECT_TRUE((*dst)->Resolve("reg.io/plugins/c:1").has_value());
    }
  }
}

// A bundle whose index.json names a manifest that was deleted: that entry is a failure of its
// own at plan time (keep_going or not), and the others are mirrored — referrers included, since
// the layout's referrer scan skips the entry it cannot read.
TEST_F(MirrorBundleTest, UnreadableEntryFailsAlone) {
  auto src = store::OciLayoutTarget::Open(Path("src"), {.create = true});
  ASSERT_TRUE(src.has_value());
  AddImage(**src, "reg.io/plugins/a:1", "aaaa");
  oci::Descriptor b = AddImage(**src, "reg.io/plugins/b:1", "bbbb");
  AddImage(**src, "reg.io/plugins/c:1", "cccc");
  ASSERT_TRUE(std::filesystem::remove(std::filesystem::path(Path("src")) / "blobs/sha256" /
                                      b.digest.hex()));

  auto bundle = ParseLocation("oci:" + Path("src"));
  auto dest = ParseMirrorDestination("oci:" + Path("dst"));
  ASSERT_TRUE(bundle.has_value() && dest.has_value());
  MirrorOptions options;
  options.check_gateway = false;
  options.with_referrers = true;
  auto plan = PlanMirror({}, {*bundle}, *dest, options, {});
  ASSERT_TRUE(plan.has_value()) << plan.error().message();
  ASSERT_EQ(plan->items.size(), 2u);
  ASSERT_EQ(plan->failures.size(), 1u);
  EXPECT_EQ(plan->failures[0].first, "oci:" + Path("src") + ": reg.io/plugins/b:1");
  EXPECT_EQ(plan->failures[0].second.code(), ErrorCode::kDataLoss);

  auto report = RunMirror(*plan, options, {});
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_EQ(report->copied, 2u);
  EXPECT_EQ(report->failed, 1u);
  EXPECT_EQ(report->source_failures.size(), 1u);
  EXPECT_TRUE(report->referrers_note.empty()) << report->referrers_note;
  auto dst = store::OciLayoutTarget::Open(Path("dst"));
  ASSERT_TRUE(dst.has_value());
  EXPECT_TRUE((*dst)->Resolve("reg.io/plugins/a:1").has_value());
  EXPECT_TRUE((*dst)->Resolve("reg.io/plugins/c:1").has_value());
}

TEST_F(MirrorBundleTest, PlainTagsAreNamedByTheirPluginNameOrMap) {
  auto src = store::OciLayoutTarget::Open(Path("src"), {.create = true});
  ASSERT_TRUE(src.has_value());
  AddImage(**src, "1.0.0", "named", {{"io.higress.plugin.name", "hello"}});
  AddImage(**src, "hello-world:2.0.0", "docker-style");
  AddImage(**src, "3.0.0", "nameless");
  auto bundle = ParseLocation("oci:" + Path("src"));
  auto dest = ParseMirrorDestination("reg.local:5000/plugins");
  ASSERT_TRUE(bundle.has_value() && dest.has_value());
  MirrorOptions options;
  // The nameless entry fails alone; the others are planned.
  auto refused = PlanMirror({}, {*bundle}, *dest, options, {});
  ASSERT_TRUE(refused.has_value()) << refused.error().message();
  EXPECT_EQ(refused->items.size(), 2u);
  ASSERT_EQ(refused->failures.size(), 1u);
  EXPECT_NE(refused->failures[0].second.message().find("--map 3.0.0=NAME"), std::string::npos)
      << refused->failures[0].second.message();
  ASSERT_TRUE(ParseMappingRule("3.0.0=other").has_value());
  options.mapping.rules.push_back(*ParseMappingRule("3.0.0=other"));
  auto plan = PlanMirror({}, {*bundle}, *dest, options, {});
  ASSERT_TRUE(plan.has_value()) << plan.error().message();
  std::vector<std::string> names;
  for (const MirrorItem& item : plan->items) names.push_back(item.destination.ToString());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"reg.local:5000/plugins/hello-world:2.0.0",
                                             "reg.local:5000/plugins/hello:1.0.0",
                                             "reg.local:5000/plugins/other:3.0.0"}));
}

TEST_F(MirrorBundleTest, PrefixRenamesBundleDestinations) {
  auto src = store::OciLayoutTarget::Open(Path("src"), {.create = true});
  ASSERT_TRUE(src.has_value());
  AddImage(**src, "reg.io/plugins/a:1.0.0", "aaaa");
  auto bundle = ParseLocation("oci:" + Path("src"));
  auto dest = ParseMirrorDestination("oci:" + Path("dst"));
  ASSERT_TRUE(bundle.has_value() && dest.has_value());
  MirrorOptions options;
  options.check_gateway = false;
  options.mapping.bundle_registry = "reg.local:5000";
  options.mapping.bundle_path = "plugins";
  auto plan = PlanMirror({}, {*bundle}, *dest, options, {});
  ASSERT_TRUE(plan.has_value()) << plan.error().message();
  auto report = RunMirror(*plan, options, {});
  ASSERT_TRUE(report.has_value()) << report.error().message();
  auto dst = store::OciLayoutTarget::Open(Path("dst"));
  ASSERT_TRUE(dst.has_value());
  EXPECT_TRUE((*dst)->Resolve("reg.local:5000/plugins/a:1.0.0").has_value());
  // A registry destination is named by --to itself.
  auto registry = ParseMirrorDestination("reg.local:5000/plugins");
  ASSERT_TRUE(registry.has_value());
  EXPECT_FALSE(PlanMirror({}, {*bundle}, *registry, options, {}).has_value());
}

TEST_F(MirrorBundleTest, RequireLoadableWritesNothing) {
  auto src = store::OciLayoutTarget::Open(Path("src"), {.create = true});
  ASSERT_TRUE(src.has_value());
  // Not gzip: the gateway cannot read the layer.
  AddImage(**src, "reg.io/plugins/a:1.0.0", "not a gzip tar");
  auto bundle = ParseLocation("oci:" + Path("src"));
  auto dest = ParseMirrorDestination("oci:" + Path("dst"));
  ASSERT_TRUE(bundle.has_value() && dest.has_value());
  MirrorOptions options;
  options.require_loadable = true;
  auto plan = PlanMirror({}, {*bundle}, *dest, options, {});
  ASSERT_TRUE(plan.has_value()) << plan.error().message();
  auto report = RunMirror(*plan, options, {});
  ASSERT_FALSE(report.has_value());
  EXPECT_EQ(report.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(report.error().message().find("reg.io/plugins/a:1.0.0"), std::string::npos)
      << report.error().message();
  EXPECT_NE(report.error().message().find("nothing was written"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(Path("dst")));
}

TEST_F(MirrorBundleTest, BundleTagsMustBeReferences) {
  auto src = store::OciLayoutTarget::Open(Path("src"), {.create = true});
  ASSERT_TRUE(src.has_value());
  AddImage(**src, "1.0.0", "x");
  auto bundle = ParseLocation("oci:" + Path("src"));
  auto dest = ParseMirrorDestination("reg.local:5000/plugins");
  ASSERT_TRUE(bundle.has_value() && dest.has_value());
  auto plan = PlanMirror({}, {*bundle}, *dest, {}, {});
  ASSERT_TRUE(plan.has_value()) << plan.error().message();
  EXPECT_TRUE(plan->items.empty());
  ASSERT_EQ(plan->failures.size(), 1u);
  EXPECT_NE(plan->failures[0].second.message().find("\"1.0.0\" is not a full image reference"),
            std::string::npos)
      << plan->failures[0].second.message();
}

TEST_F(MirrorBundleTest, PluginNameAnnotationTravelsThroughBundles) {
  auto src = store::OciLayoutTarget::Open(Path("src"), {.create = true});
  ASSERT_TRUE(src.has_value());
  oci::Descriptor image = AddImage(**src, "reg.io/plugins/jsonrpc-converter:1", "x");
  ASSERT_TRUE(
      (*src)->TagWithAnnotations(image, "reg.io/plugins/jsonrpc-converter:1",
                                 {{std::string(oci::kAnnotationPluginName), "json-converter"}}));
  AddImage(**src, "reg.io/plugins/plain:1", "y");
  auto bundle = ParseLocation("oci:" + Path("src"));
  ASSERT_TRUE(bundle.has_value());

  auto server = ParseMirrorDestination("plugin-server:" + Path("tree"));
  ASSERT_TRUE(server.has_value());
  auto server_plan = PlanMirror({}, {*bundle}, *server, {}, {});
  ASSERT_TRUE(server_plan.has_value()) << server_plan.error().message();
  ASSERT_EQ(server_plan->items.size(), 2u);
  EXPECT_EQ(server_plan->items[0].DestinationString(),
            "plugin-server:" + Path("tree") + "/json-converter/1");
  EXPECT_EQ(server_plan->items[1].DestinationString(),
            "plugin-server:" + Path("tree") + "/plain/1");

  // Into another layout: the key is written on the new entry too.
  auto dest = ParseMirrorDestination("oci:" + Path("dst"));
  ASSERT_TRUE(dest.has_value());
  MirrorOptions options;
  options.check_gateway = false;
  auto plan = PlanMirror({}, {*bundle}, *dest, options, {});
  ASSERT_TRUE(plan.has_value()) << plan.error().message();
  EXPECT_EQ(plan->items[0].plugin_name, "json-converter");
  EXPECT_EQ(plan->items[1].plugin_name, "");
  auto report = RunMirror(*plan, options, {});
  ASSERT_TRUE(report.has_value()) << report.error().message();
  EXPECT_EQ(report->copied, 2u);
  auto dst = store::OciLayoutTarget::Open(Path("dst"));
  ASSERT_TRUE(dst.has_value());
  auto entry = (*dst)->Resolve("reg.io/plugins/jsonrpc-converter:1");
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->annotations[std::string(oci::kAnnotationPluginName)], "json-converter");
  auto again = RunMirror(*plan, options, {});
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->up_to_date, 2u);
}

TEST_F(MirrorBundleTest, CollidingDestinationsAreRefused) {
  auto src = store::OciLayoutTarget::Open(Path("src"), {.create = true});
  ASSERT_TRUE(src.has_value());
  AddImage(**src, "reg.io/team-a/auth:1", "x");
  AddImage(**src, "reg.io/team-b/auth:1", "y");
  auto bundle = ParseLocation("oci:" + Path("src"));
  auto dest = ParseMirrorDestination("reg.local:5000/plugins");
  ASSERT_TRUE(bundle.has_value() && dest.has_value());
  auto plan = PlanMirror({}, {*bundle}, *dest, {}, {});
  ASSERT_FALSE(plan.has_value());
  EXPECT_NE(plan.error().message().find("--scoped"), std::string::npos);
  MirrorOptions scoped;
  scoped.mapping.scoped = true;
  auto scoped_plan = PlanMirror({}, {*bundle}, *dest, scoped, {});
  ASSERT_TRUE(scoped_plan.has_value()) << scoped_plan.error().message();
  EXPECT_EQ(scoped_plan->items[0].destination.ToString(),
            "reg.local:5000/plugins/reg.io/team-a/auth:1");
}

}  // namespace
}  // namespace plugctl::transfer
