#include "plugctl/archive/tar.h"

#include <string>
#include <vector>

#include "support/raw_tar.h"
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "plugctl/base/file.h"

namespace plugctl::archive {
namespace {

using testing::PaxRecord;
using testing::RawTar;
using testing::RawTarEntry;

struct ReadEntry {
  TarEntry entry;
  std::string data;
};

Result<std::vector<ReadEntry>> ReadAll(TarReader& tar) {
  std::vector<ReadEntry> out;
  for (;;) {
    PLUGCTL_ASSIGN_OR_RETURN(std::optional<TarEntry> entry, tar.Next());
    if (!entry) return out;
    PLUGCTL_ASSIGN_OR_RETURN(std::string data, ReadAllBounded(tar.data(), 64 << 20, entry->path));
    out.push_back({*entry, std::move(data)});
  }
}

Result<std::vector<ReadEntry>> ReadBytes(std::string bytes) {
  StringReader stream(std::move(bytes));
  PLUGCTL_ASSIGN_OR_RETURN(auto tar, TarReader::Open(stream, "test.tar"));
  return ReadAll(*tar);
}

std::string WriteSample(Compression compression, int64_t mtime = 0) {
  StringWriter out;
  auto tar = TarWriter::Create(out, {.compression = compression, .mtime = mtime});
  EXPECT_TRUE(tar) << tar.error().message();
  EXPECT_TRUE((*tar)->AddDirectory("./blobs/"));
  EXPECT_TRUE((*tar)->AddFile("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  EXPECT_TRUE((*tar)->AddFile("blobs/data.bin", std::string(100000, 'z')));
  EXPECT_TRUE((*tar)->AddFile(std::string(150, 'l') + "/long-name", "long"));
  EXPECT_TRUE((*tar)->Finish());
  return out.Take();
}

TEST(SanitizeEntryPathTest, Normalizes) {
  struct Case {
    std::string in;
    std::string out;
  } cases[] = {
      {"a", "a"},
      {"./a/b", "a/b"},
      {"a//b/", "a/b"},
      {"./././x", "x"},
      {"a/./b/.", "a/b"},
      {"blobs/sha256/ab", "blobs/sha256/ab"},
      {"..a/b..", "..a/b.."},
  };
  for (const Case& c : cases) {
    Result<std::string> got = SanitizeEntryPath(c.in);
    ASSERT_TRUE(got) << c.in << ": " << got.error().message();
    EXPECT_EQ(*got, c.out) << c.in;
  }
}

TEST(SanitizeEntryPathTest, Rejects) {
  const std::string too_long(kMaxEntryPathBytes + 1, 'a');
  for (std::string bad : {std::string(""), std::string("/abs"), std::string("../evil"),
                          std::string("a/../../b"), std::string("a/.."), std::string("."),
                          std::string("./"), std::string("//"), std::string("a\0b", 3), too_long}) {
    Result<std::string> got = SanitizeEntryPath(bad);
    ASSERT_FALSE(got) << bad;
    EXPECT_EQ(got.error().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(TarWriterTest, RoundTripsEveryCompression) {
  for (Compression c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    std::string bytes = WriteSample(c, 1700000000);
    auto entries = ReadBytes(bytes);
    ASSERT_TRUE(entries) << entries.error().message();
    ASSERT_EQ(entries->size(), 4u);
    EXPECT_EQ((*entries)[0].entry.path, "blobs/");
    EXPECT_EQ((*entries)[0].entry.type, EntryType::kDirectory);
    EXPECT_EQ((*entries)[0].entry.mode, 0755u);
    EXPECT_EQ((*entries)[1].entry.path, "oci-layout");
    EXPECT_EQ((*entries)[1].entry.type, EntryType::kFile);
    EXPECT_EQ((*entries)[1].entry.mode, 0644u);
    EXPECT_EQ((*entries)[1].data, R"({"imageLayoutVersion":"1.0.0"})");
    EXPECT_EQ((*entries)[2].entry.size, 100000u);
    EXPECT_EQ((*entries)[2].data, std::string(100000, 'z'));
    EXPECT_EQ((*entries)[3].entry.path, std::string(150, 'l') + "/long-name");
    EXPECT_EQ((*entries)[3].data, "long");
  }
}

TEST(TarWriterTest, OutputIsDeterministic) {
  for (Compression c : {Compression::kNone, Compression::kGzip, Compression::kZstd}) {
    std::string first = WriteSample(c);
    std::string second = WriteSample(c);
    EXPECT_EQ(first, second);
    EXPECT_NE(WriteSample(c, 1), first) << "mtime must reach the headers";
  }
  std::string gz = WriteSample(Compression::kGzip);
  ASSERT_GE(gz.size(), 10u);
  EXPECT_EQ(gz.substr(0, 2), "\x1f\x8b");
  EXPECT_EQ(gz.substr(4, 4), std::string(4, '\0')) << "gzip MTIME must be zero";
  EXPECT_EQ(gz[3] & 0x08, 0) << "gzip FNAME must not be set";
}

TEST(TarWriterTest, HeadersCarryNoOwnerNames) {
  std::string plain = WriteSample(Compression::kNone, 0);
  // Header of the second entry (oci-layout), after the directory header.
  std::string h = plain.substr(512, 512);
  EXPECT_EQ(h.substr(0, 10), "oci-layout");
  EXPECT_EQ(h.substr(265, 32), std::string(32, '\0'));  // uname
  EXPECT_EQ(h.substr(297, 32), std::string(32, '\0'));  // gname
  EXPECT_EQ(h.substr(108, 6), "000000");                // uid
  EXPECT_EQ(h.substr(257, 5), "ustar");
}

TEST(TarWriterTest, ContentSizeMismatchIsDataLoss) {
  StringWriter out;
  auto tar = TarWriter::Create(out);
  ASSERT_TRUE(tar);
  StringReader shorter("abc");
  auto st = (*tar)->AddFile("a", 5, shorter);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
  EXPECT_FALSE((*tar)->Finish()) << "a failed writer stays failed";

  StringWriter out2;
  auto tar2 = TarWriter::Create(out2);
  ASSERT_TRUE(tar2);
  StringReader longer("abcdef");
  st = (*tar2)->AddFile("a", 5, longer);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
}

TEST(TarWriterTest, AbandonedStreamIsNotMadeComplete) {
  auto write = [](bool finish) {
    StringWriter out;
    auto tar = TarWriter::Create(out);
    EXPECT_TRUE(tar);
    EXPECT_TRUE((*tar)->AddFile("a", std::string(30000, 'a')));
    EXPECT_TRUE((*tar)->AddFile("b", std::string(25000, 'b')));
    if (finish) {
      EXPECT_TRUE((*tar)->Finish());
    }
    tar->reset();
    return out.Take();
  };
  std::string finished = write(true);
  std::string abandoned = write(false);
  // Only whole blocks that were complete before abandoning: no partial entry padded out and
  // no end-of-archive marker.
  EXPECT_LT(abandoned.size() + 1024, finished.size());
  EXPECT_EQ(abandoned, finished.substr(0, abandoned.size()));
  auto entries = ReadBytes(abandoned);
  ASSERT_FALSE(entries);
  EXPECT_EQ(entries.error().code(), ErrorCode::kDataLoss);
}

TEST(TarWriterTest, RejectsUnsafePaths) {
  StringWriter out;
  auto tar = TarWriter::Create(out);
  ASSERT_TRUE(tar);
  auto st = (*tar)->AddFile("../x", "data");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
}

class FailingWriter : public Writer {
 public:
  Status Write(std::string_view) override {
    return MakeError(ErrorCode::kResourceExhausted, "disk full");
  }
};

TEST(TarWriterTest, SinkErrorsPropagate) {
  FailingWriter out;
  auto tar = TarWriter::Create(out);
  ASSERT_TRUE(tar);
  // libarchive buffers 10 KiB blocks: write more than that to reach the sink.
  Status st = (*tar)->AddFile("big", std::string(64 * 1024, 'x'));
  if (st) st = (*tar)->Finish();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(st.error().message(), "disk full");
}

TEST(TarReaderTest, ReadsLinksAndTypes) {
  auto entries = ReadBytes(RawTar({
      {.name = "dir/", .type = '5'},
      {.name = "dir/file", .data = "hello"},
      {.name = "sym", .type = '2', .link = "/etc/passwd"},
      {.name = "hard", .type = '1', .link = "dir/file"},
      {.name = "dev", .type = '3'},
  }));
  ASSERT_TRUE(entries) << entries.error().message();
  ASSERT_EQ(entries->size(), 5u);
  EXPECT_EQ((*entries)[0].entry.type, EntryType::kDirectory);
  EXPECT_EQ((*entries)[1].data, "hello");
  EXPECT_EQ((*entries)[2].entry.type, EntryType::kSymlink);
  EXPECT_EQ((*entries)[2].entry.link_target, "/etc/passwd");
  EXPECT_EQ((*entries)[3].entry.type, EntryType::kHardlink);
  EXPECT_EQ((*entries)[3].entry.link_target, "dir/file");
  EXPECT_EQ((*entries)[4].entry.type, EntryType::kOther);
}

TEST(TarReaderTest, StreamsLargeEntriesInChunks) {
  const uint64_t kSize = 3 * 1024 * 1024 + 17;
  StringWriter out;
  {
    auto tar = TarWriter::Create(out, {.compression = Compression::kGzip});
    ASSERT_TRUE(tar);
    ASSERT_TRUE((*tar)->AddFile("big", std::string(kSize, 'q')));
    ASSERT_TRUE((*tar)->Finish());
  }
  StringReader stream(out.Take());
  auto tar = TarReader::Open(stream, "big.tar.gz");
  ASSERT_TRUE(tar);
  auto entry = (*tar)->Next();
  ASSERT_TRUE(entry && *entry);
  EXPECT_EQ((*entry)->size, kSize);
  char buf[4096];
  uint64_t total = 0;
  size_t max_chunk = 0;
  for (;;) {
    auto n = (*tar)->data().Read(std::span<char>(buf, sizeof(buf)));
    ASSERT_TRUE(n);
    if (*n == 0) break;
    max_chunk = std::max(max_chunk, *n);
    total += *n;
  }
  EXPECT_EQ(total, kSize);
  EXPECT_LE(max_chunk, sizeof(buf));
  auto end = (*tar)->Next();
  ASSERT_TRUE(end);
  EXPECT_FALSE(*end);
}

TEST(TarReaderTest, SkipsUnreadData) {
  auto bytes =
      RawTar({{.name = "a", .data = std::string(3000, 'a')}, {.name = "b", .data = "bee"}});
  StringReader stream(bytes);
  auto tar = TarReader::Open(stream, "t.tar");
  ASSERT_TRUE(tar);
  ASSERT_TRUE(*(*tar)->Next());
  auto b = (*tar)->Next();
  ASSERT_TRUE(b && *b);
  EXPECT_EQ((*b)->path, "b");
  auto data = ReadAllBounded((*tar)->data(), 100, "b");
  ASSERT_TRUE(data);
  EXPECT_EQ(*data, "bee");
}

TEST(TarReaderTest, RejectsNonTarInput) {
  auto got = ReadBytes(std::string(2048, 'x'));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(got.error().message().find("test.tar"), std::string::npos) << got.error().message();
}

TEST(TarReaderTest, TruncatedInputIsDataLoss) {
  std::string bytes = RawTar({{.name = "a", .data = std::string(5000, 'a')}}, false);
  bytes.resize(512 + 1024);
  auto got = ReadBytes(bytes);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kDataLoss) << got.error().message();

  // Incompressible data, so half of the gzip stream really ends inside the entry.
  StringWriter out;
  auto tar = TarWriter::Create(out, {.compression = Compression::kGzip});
  ASSERT_TRUE(tar);
  std::string noise(50000, '\0');
  uint32_t x = 12345;
  for (char& c : noise) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 24);
  }
  ASSERT_TRUE((*tar)->AddFile("noise", noise));
  ASSERT_TRUE((*tar)->Finish());
  std::string gz = out.Take();
  got = ReadBytes(gz.substr(0, gz.size() / 2));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kDataLoss) << got.error().message();
}

TEST(TarReaderTest, RejectsOverlongPaths) {
  std::string long_path(kMaxEntryPathBytes + 10, 'p');
  auto got = ReadBytes(RawTar({
      {.name = "PaxHeader/x", .type = 'x', .data = PaxRecord("path", long_path)},
      {.name = "x", .data = "data"},
  }));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code(), ErrorCode::kInvalidArgument);
}

class FailingReader : public Reader {
 public:
  Result<size_t> Read(std::span<char>) override {
    return MakeError(ErrorCode::kUnavailable, "connection reset");
  }
};

TEST(TarReaderTest, StreamErrorsPropagate) {
  FailingReader stream;
  auto tar = TarReader::Open(stream, "net.tar");
  Status st = tar ? Status((*tar)->Next().map([](auto&&) {})) : Status(tl::unexpected(tar.error()));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kUnavailable);
}

TEST(TarReaderTest, OpensFiles) {
  auto dir = TempDir::Create("tar-test");
  ASSERT_TRUE(dir);
  fs::path file = (*dir)->path() / "x.tar.zst";
  ASSERT_TRUE(WriteFileAtomic(file, WriteSample(Compression::kZstd)));
  auto tar = TarReader::Open(file);
  ASSERT_TRUE(tar) << tar.error().message();
  auto entries = ReadAll(**tar);
  ASSERT_TRUE(entries);
  EXPECT_EQ(entries->size(), 4u);

  auto missing = TarReader::Open((*dir)->path() / "nope.tar");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

// --- ExtractTo ---

class ExtractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("extract-test");
    ASSERT_TRUE(dir);
    scratch_ = std::move(*dir);
    out_ = scratch_->path() / "work" / "out";
    ASSERT_TRUE(CreateDirectories(out_.parent_path()));
  }

  Status Extract(std::string bytes, const ExtractOptions& options = {}) {
    StringReader stream(std::move(bytes));
    PLUGCTL_ASSIGN_OR_RETURN(auto tar, TarReader::Open(stream, "in.tar"));
    return ExtractTo(*tar, out_, options);
  }

  // Everything under scratch/work, relative.
  std::vector<std::string> Listing() {
    std::vector<std::string> names;
    for (const auto& e : fs::recursive_directory_iterator(scratch_->path())) {
      names.push_back(fs::relative(e.path(), scratch_->path()).string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  std::unique_ptr<TempDir> scratch_;
  fs::path out_;
};

TEST_F(ExtractTest, ExtractsFilesAndDirectories) {
  ASSERT_TRUE(Extract(RawTar({
      {.name = "./", .type = '5'},
      {.name = "./blobs/sha256/", .type = '5'},
      {.name = "./blobs/sha256/aa", .data = "AA"},
      {.name = "index.json", .data = "{}"},
      {.name = "deep/er/file", .data = "auto parents"},
      {.name = "index.json", .data = "{\"v\":2}"},
  })));
  EXPECT_EQ(*ReadFileBounded(out_ / "blobs/sha256/aa", 100), "AA");
  EXPECT_EQ(*ReadFileBounded(out_ / "deep/er/file", 100), "auto parents");
  EXPECT_EQ(*ReadFileBounded(out_ / "index.json", 100), "{\"v\":2}") << "later entries win";
  std::vector<std::string> expected = {"work",
                                       "work/out",
                                       "work/out/blobs",
                                       "work/out/blobs/sha256",
                                       "work/out/blobs/sha256/aa",
                                       "work/out/deep",
                                       "work/out/deep/er",
                                       "work/out/deep/er/file",
                                       "work/out/index.json"};
  EXPECT_EQ(Listing(), expected);
}

TEST_F(ExtractTest, IntoExistingEmptyDirectory) {
  ASSERT_TRUE(CreateDirectories(out_));
  ASSERT_TRUE(Extract(RawTar({{.name = "f", .data = "x"}})));
  EXPECT_TRUE(fs::exists(out_ / "f"));
}

TEST_F(ExtractTest, RefusesNonEmptyDirectory) {
  ASSERT_TRUE(CreateDirectories(out_));
  ASSERT_TRUE(WriteFileAtomic(out_ / "keep", "k"));
  auto st = Extract(RawTar({{.name = "f", .data = "x"}}));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_FALSE(fs::exists(out_ / "f"));
}

TEST_F(ExtractTest, HostileEntriesFailAndLeaveNothing) {
  const std::vector<std::vector<RawTarEntry>> hostile = {
      {{.name = "ok", .data = "x"}, {.name = "../evil", .data = "x"}},
      {{.name = "ok", .data = "x"}, {.name = "/tmp/abs-evil", .data = "x"}},
      {{.name = "ok", .data = "x"}, {.name = "a/../../evil", .data = "x"}},
      {{.name = "ok", .data = "x"}, {.name = "link", .type = '2', .link = "/"}},
      {{.name = "ok", .data = "x"}, {.name = "hard", .type = '1', .link = "ok"}},
      {{.name = "ok", .data = "x"}, {.name = "dev", .type = '3'}},
      {{.name = "ok", .data = "x"}, {.name = "ok/sub", .data = "file in the way"}},
      {{.name = "d/", .type = '5'}, {.name = "d", .data = "file over dir"}},
  };
  for (const auto& entries : hostile) {
    auto st = Extract(RawTar(entries));
    ASSERT_FALSE(st) << entries.back().name;
    EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument)
        << entries.back().name << ": " << st.error().message();
    EXPECT_NE(st.error().message().find("in.tar"), std::string::npos) << st.error().message();
    EXPECT_EQ(Listing(), std::vector<std::string>{"work"}) << entries.back().name;
  }
  EXPECT_FALSE(fs::exists("/tmp/abs-evil"));
}

TEST_F(ExtractTest, ResolvesLinksInsideTheArchiveWhenAsked) {
  ASSERT_TRUE(Extract(RawTar({
                          {.name = "early/layer.tar", .type = '2', .link = "../blobs/sha256/aa"},
                          {.name = "blobs/sha256/aa", .data = "layer"},
                          {.name = "dup/layer.tar", .type = '1', .link = "blobs/sha256/aa"},
                          {.name = "chain", .type = '2', .link = "early/layer.tar"},
                          {.name = "replaced", .type = '2', .link = "blobs/sha256/aa"},
                          {.name = "replaced", .data = "file wins"},
                      }),
                      {.resolve_links = true}));
  for (const char* name : {"early/layer.tar", "dup/layer.tar", "chain"}) {
    EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(out_ / name))) << name;
    EXPECT_EQ(*ReadFileBounded(out_ / name, 100), "layer") << name;
  }
  EXPECT_EQ(*ReadFileBounded(out_ / "replaced", 100), "file wins");
}

TEST_F(ExtractTest, RefusesLinksLeavingTheArchive) {
  const std::vector<std::vector<RawTarEntry>> hostile = {
      {{.name = "l", .type = '2', .link = "/etc/passwd"}},
      {{.name = "a/l", .type = '2', .link = "../../etc/passwd"}},
      {{.name = "l", .type = '1', .link = "../outside"}},
      {{.name = "l", .type = '2', .link = "missing"}},
      {{.name = "d/", .type = '5'}, {.name = "l", .type = '2', .link = "d"}},
      {{.name = "x", .type = '2', .link = "y"}, {.name = "y", .type = '2', .link = "x"}},
      {{.name = "dev", .type = '3'}},
  };
  for (const auto& entries : hostile) {
    auto st = Extract(RawTar(entries), {.resolve_links = true});
    ASSERT_FALSE(st) << entries.back().name << " -> " << entries.back().link;
    EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument) << st.error().message();
    EXPECT_EQ(Listing(), std::vector<std::string>{"work"});
  }
}

TEST_F(ExtractTest, TruncatedArchiveLeavesNothing) {
  std::string bytes =
      RawTar({{.name = "a", .data = "aaa"}, {.name = "b", .data = std::string(4000, 'b')}});
  bytes.resize(512 * 4);
  auto st = Extract(bytes);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
  EXPECT_EQ(Listing(), std::vector<std::string>{"work"});
}

TEST_F(ExtractTest, EnforcesLimits) {
  auto st =
      Extract(RawTar({{.name = "a", .data = "1"}, {.name = "b", .data = "2"}}), {.max_entries = 1});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kResourceExhausted);
  st = Extract(RawTar({{.name = "a", .data = "12345"}}), {.max_total_bytes = 4});
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_EQ(Listing(), std::vector<std::string>{"work"});
}

}  // namespace
}  // namespace plugctl::archive

namespace plugctl::archive {
namespace {

// --- ExtractInto with a selection ---

class ExtractIntoTest : public ExtractTest {
 protected:
  Status ExtractSelected(std::string bytes, ExtractOptions options) {
    StringReader stream(std::move(bytes));
    PLUGCTL_ASSIGN_OR_RETURN(auto tar, TarReader::Open(stream, "in.tar"));
    if (!fs::exists(out_)) PLUGCTL_RETURN_IF_ERROR(CreateDirectories(out_));
    return ExtractInto(*tar, out_, options);
  }
};

TEST_F(ExtractIntoTest, WritesOnlySelectedMembersWithinTheirLimits) {
  std::string tar = RawTar({
      {.name = "junk/big", .data = std::string(1 << 20, '\0')},
      {.name = "index.json", .data = "{}"},
      {.name = "blobs/sha256/aa", .data = "layer"},
  });
  std::vector<std::string> asked;
  ExtractOptions options{.select = [&](const std::string& path, const TarEntry&) {
    asked.push_back(path);
    return MemberSelection{.extract = path != "junk/big", .max_bytes = 5};
  }};
  ASSERT_TRUE(ExtractSelected(tar, options));
  EXPECT_EQ(asked, (std::vector<std::string>{"junk/big", "index.json", "blobs/sha256/aa"}));
  EXPECT_EQ(Listing(),
            (std::vector<std::string>{"work", "work/out", "work/out/blobs", "work/out/blobs/sha256",
                                      "work/out/blobs/sha256/aa", "work/out/index.json"}));

  // A selected member bigger than allowed is refused, naming it.
  options.select = [](const std::string&, const TarEntry&) {
    return MemberSelection{.extract = true, .max_bytes = 4};
  };
  auto st = ExtractSelected(RawTar({{.name = "blobs/sha256/bb", .data = "12345"}}), options);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kDataLoss);
  EXPECT_NE(st.error().message().find("blobs/sha256/bb"), std::string::npos);
  EXPECT_FALSE(fs::exists(out_ / "blobs" / "sha256" / "bb"));
}

TEST_F(ExtractIntoTest, SafetyRulesApplyToUnselectedMembersToo) {
  ExtractOptions options{.select = [](const std::string&, const TarEntry&) {
    return MemberSelection{.extract = false};
  }};
  for (std::vector<RawTarEntry> entries : {std::vector<RawTarEntry>{{.name = "../x", .data = "1"}},
                                           {{.name = "dev", .type = '3'}},
                                           {{.name = "l", .type = '2', .link = "/etc/passwd"}}}) {
    EXPECT_FALSE(ExtractSelected(RawTar(entries), options)) << entries[0].name;
  }
}

TEST_F(ExtractIntoTest, ManyLinksToOneFileShareOneInode) {
  std::vector<RawTarEntry> entries = {{.name = "blobs/sha256/aa", .data = std::string(4096, 'x')}};
  for (int i = 0; i < 3000; ++i) {
    entries.push_back({.name = "l" + std::to_string(i) + "/layer.tar",
                       .type = static_cast<char>(i % 2 ? '1' : '2'),
                       .link = i % 2 ? "blobs/sha256/aa" : "../blobs/sha256/aa"});
  }
  ExtractOptions options{.max_total_bytes = 4096, .resolve_links = true};
  options.select = [](const std::string& path, const TarEntry&) {
    return MemberSelection{.extract = path != "l7/layer.tar"};
  };
  ASSERT_TRUE(ExtractSelected(RawTar(entries), options));
  struct stat blob;
  ASSERT_EQ(::stat((out_ / "blobs/sha256/aa").c_str(), &blob), 0);
  EXPECT_EQ(blob.st_nlink, 3000u);  // the blob and 2999 selected links, one inode
  for (int i : {0, 1, 2999}) {
    struct stat link;
    fs::path p = out_ / ("l" + std::to_string(i)) / "layer.tar";
    ASSERT_EQ(::stat(p.c_str(), &link), 0) << p;
    EXPECT_EQ(link.st_ino, blob.st_ino) << p;
  }
  EXPECT_FALSE(fs::exists(out_ / "l7"));
}

TEST(ResolveLinkTargetTest, HardAndSymbolicLinks) {
  TarEntry hard{.path = "a/b", .type = EntryType::kHardlink, .link_target = "./blobs/x"};
  EXPECT_EQ(*ResolveLinkTarget("a/b", hard), "blobs/x");
  TarEntry sym{.path = "a/b", .type = EntryType::kSymlink, .link_target = "../blobs/x"};
  EXPECT_EQ(*ResolveLinkTarget("a/b", sym), "blobs/x");
  sym.link_target = "../../x";
  EXPECT_FALSE(ResolveLinkTarget("a/b", sym));
  TarEntry file{.path = "a/b"};
  EXPECT_FALSE(ResolveLinkTarget("a/b", file));
}

}  // namespace
}  // namespace plugctl::archive
