// A read-only memory mapping of a whole file (POSIX mmap). Zero-copy tensors point into it, so the
// model keeps the mapping alive as long as it lives.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

namespace fas {

class MappedFile {
 public:
  // Throws std::runtime_error naming the file when it cannot be opened or mapped.
  static std::shared_ptr<MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  // Drops the pages of [offset, offset + length) from memory once they have been copied elsewhere;
  // they would be read again from the file if touched.
  void release(uint64_t offset, uint64_t length) const;

 private:
  MappedFile(std::string path, const uint8_t* data, uint64_t size) : path_(std::move(path)), data_(data), size_(size) {}
  std::string path_;
  const uint8_t* data_;
  uint64_t size_;
};

}  // namespace fas
