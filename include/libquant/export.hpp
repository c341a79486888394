// Symbol visibility: the library is built with hidden visibility; only what is
// marked LQ_EXPORT is part of the shared library's interface.
#pragma once

#if defined(LQ_STATIC_DEFINE)
#define LQ_EXPORT
#elif defined(_WIN32)
#if defined(LQ_BUILDING_LIBRARY)
#define LQ_EXPORT __declspec(dllexport)
#else
#define LQ_EXPORT __declspec(dllimport)
#endif
#else
#define LQ_EXPORT __attribute__((visibility("default")))
#endif
