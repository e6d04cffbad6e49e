// GCC 12 at -O1 and above pairs an Asio coroutine frame's operator delete
// with the aligned_alloc inside Asio's matching operator new and warns
// (-Wmismatched-new-delete); they are a pair. Headers that define coroutines
// wrap them in these, so that a program built with -Werror is not stopped by
// the false positive (GCC reports it wherever inlining puts it).
#ifndef INCSYNC_DETAIL_ASIO_COROUTINES_HPP
#define INCSYNC_DETAIL_ASIO_COROUTINES_HPP

#if defined(__GNUC__) && !defined(__clang__)
#define INCSYNC_BEGIN_ASIO_COROUTINES                                                                                  \
    _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wmismatched-new-delete\"")
#define INCSYNC_END_ASIO_COROUTINES _Pragma("GCC diagnostic pop")
#else
#define INCSYNC_BEGIN_ASIO_COROUTINES
#define INCSYNC_END_ASIO_COROUTINES
#endif

#endif
