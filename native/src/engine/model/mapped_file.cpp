#include "engine/model/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace fas {

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(path + ": cannot open the file (" + std::strerror(errno) + ")");
  // Closes the descriptor and reports why; errno is read first, as close() may change it.
  const auto fail = [&](const std::string& why) {
    const std::string message = path + ": " + why + (errno ? std::string(" (") + std::strerror(errno) + ")" : "");
    ::close(fd);
    return std::runtime_error(message);
  };
  struct stat st {};
  if (fstat(fd, &st) != 0) throw fail("cannot read the file size");
  errno = 0;
  if (!S_ISREG(st.st_mode)) throw fail("not a regular file");
  if (st.st_size == 0) throw fail("the file is empty");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  void* data = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (data == MAP_FAILED) throw fail("cannot map the file");
  ::close(fd);  // the mapping keeps its own reference to the file
  return std::shared_ptr<MappedFile>(new MappedFile(path, static_cast<const uint8_t*>(data), size));
}

MappedFile::~MappedFile() { munmap(const_cast<uint8_t*>(data_), size_); }

void MappedFile::release(uint64_t offset, uint64_t length) const {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t begin = offset / page * page, end = offset + length;
  // Unmodified private file pages: dropping them only costs a re-read, so neighbours are safe.
  madvise(const_cast<uint8_t*>(data_) + begin, end - begin, MADV_DONTNEED);
}

}  // namespace fas
