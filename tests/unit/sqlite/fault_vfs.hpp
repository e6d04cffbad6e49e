// A SQLite VFS for tests: the default VFS with faults injected on demand.
// Registered as "incsync-fault"; a store opened with `.vfs = fault_vfs::name`
// goes through it. It can make the disk full (every write fails with
// SQLITE_FULL, as ENOSPC does) and hold fsyncs at a gate, so a test can
// look at the store while a commit is stuck in the middle.
#ifndef INCSYNC_TESTS_UNIT_SQLITE_FAULT_VFS_HPP
#define INCSYNC_TESTS_UNIT_SQLITE_FAULT_VFS_HPP

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>

namespace fault_vfs {

inline constexpr const char* name = "incsync-fault";

struct controls {
    std::atomic<bool> disk_full{false};
    std::atomic<int> writes{0}; ///< xWrite calls seen (all files)

    // The sync gate: while closed, xSync waits (at most 10 s) until opened.
    std::mutex mutex;
    std::condition_variable cv;
    bool gate_closed = false;
    int syncs_waiting = 0;

    void close_gate()
    {
        std::lock_guard l(mutex);
        gate_closed = true;
    }
    void open_gate()
    {
        {
            std::lock_guard l(mutex);
            gate_closed = false;
        }
        cv.notify_all();
    }
    /// Waits until a sync is held at the gate; false after `limit`.
    bool wait_for_held_sync(std::chrono::milliseconds limit = std::chrono::seconds(10))
    {
        std::unique_lock l(mutex);
        return cv.wait_for(l, limit, [&] { return syncs_waiting > 0; });
    }
    void reset()
    {
        disk_full = false;
        open_gate();
    }
};

inline controls& control()
{
    static controls c;
    return c;
}

namespace detail {

struct file {
    sqlite3_file base;
    sqlite3_file* real; // follows this struct in the same allocation
};

inline sqlite3_vfs* real_vfs() { return sqlite3_vfs_find(nullptr); }
inline sqlite3_file* real(sqlite3_file* f) { return reinterpret_cast<file*>(f)->real; }

inline int x_close(sqlite3_file* f)
{
    const int rc = real(f)->pMethods ? real(f)->pMethods->xClose(real(f)) : SQLITE_OK;
    return rc;
}
inline int x_read(sqlite3_file* f, void* p, int n, sqlite3_int64 off) { return real(f)->pMethods->xRead(real(f), p, n, off); }
inline int x_write(sqlite3_file* f, const void* p, int n, sqlite3_int64 off)
{
    ++control().writes;
    if (control().disk_full) return SQLITE_FULL;
    return real(f)->pMethods->xWrite(real(f), p, n, off);
}
inline int x_truncate(sqlite3_file* f, sqlite3_int64 size) { return real(f)->pMethods->xTruncate(real(f), size); }
inline int x_sync(sqlite3_file* f, int flags)
{
    auto& c = control();
    {
        std::unique_lock l(c.mutex);
        if (c.gate_closed) {
            ++c.syncs_waiting;
            c.cv.notify_all();
            c.cv.wait_for(l, std::chrono::seconds(10), [&] { return !c.gate_closed; });
            --c.syncs_waiting;
        }
    }
    return real(f)->pMethods->xSync(real(f), flags);
}
inline int x_file_size(sqlite3_file* f, sqlite3_int64* size) { return real(f)->pMethods->xFileSize(real(f), size); }
inline int x_lock(sqlite3_file* f, int l) { return real(f)->pMethods->xLock(real(f), l); }
inline int x_unlock(sqlite3_file* f, int l) { return real(f)->pMethods->xUnlock(real(f), l); }
inline int x_check_reserved_lock(sqlite3_file* f, int* out) { return real(f)->pMethods->xCheckReservedLock(real(f), out); }
inline int x_file_control(sqlite3_file* f, int op, void* arg) { return real(f)->pMethods->xFileControl(real(f), op, arg); }
inline int x_sector_size(sqlite3_file* f) { return real(f)->pMethods->xSectorSize(real(f)); }
inline int x_device_characteristics(sqlite3_file* f) { return real(f)->pMethods->xDeviceCharacteristics(real(f)); }
inline int x_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** p)
{
    return real(f)->pMethods->xShmMap(real(f), page, size, extend, p);
}
inline int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) { return real(f)->pMethods->xShmLock(real(f), offset, n, flags); }
inline void x_shm_barrier(sqlite3_file* f) { real(f)->pMethods->xShmBarrier(real(f)); }
inline int x_shm_unmap(sqlite3_file* f, int del) { return real(f)->pMethods->xShmUnmap(real(f), del); }
inline int x_fetch(sqlite3_file* f, sqlite3_int64 off, int n, void** p) { return real(f)->pMethods->xFetch(real(f), off, n, p); }
inline int x_unfetch(sqlite3_file* f, sqlite3_int64 off, void* p) { return real(f)->pMethods->xUnfetch(real(f), off, p); }

inline const sqlite3_io_methods io_methods = {
    3, x_close, x_read, x_write, x_truncate, x_sync, x_file_size, x_lock, x_unlock, x_check_reserved_lock,
    x_file_control, x_sector_size, x_device_characteristics, x_shm_map, x_shm_lock, x_shm_barrier, x_shm_unmap,
    x_fetch, x_unfetch,
};

inline int x_open(sqlite3_vfs* vfs, const char* path, sqlite3_file* f, int flags, int* out_flags)
{
    auto* ours = reinterpret_cast<file*>(f);
    ours->real = reinterpret_cast<sqlite3_file*>(ours + 1);
    std::memset(ours->real, 0, static_cast<std::size_t>(real_vfs()->szOsFile));
    ours->base.pMethods = nullptr;
    const int rc = real_vfs()->xOpen(real_vfs(), path, ours->real, flags, out_flags);
    if (ours->real->pMethods) ours->base.pMethods = &io_methods;
    (void)vfs;
    return rc;
}

} // namespace detail

/// Registers the VFS once (idempotent) and returns the controls.
inline controls& install()
{
    static sqlite3_vfs vfs = [] {
        sqlite3_vfs* r = detail::real_vfs();
        sqlite3_vfs v = *r;
        v.szOsFile = static_cast<int>(sizeof(detail::file)) + r->szOsFile;
        v.zName = name;
        v.pNext = nullptr;
        v.xOpen = detail::x_open;
        // Everything else (delete, access, full pathname, randomness, time)
        // goes to the real VFS, which ignores which VFS object it is given
        // for these except through pAppData, copied above.
        return v;
    }();
    static const bool registered = sqlite3_vfs_register(&vfs, 0) == SQLITE_OK;
    (void)registered;
    return control();
}

} // namespace fault_vfs

#endif
