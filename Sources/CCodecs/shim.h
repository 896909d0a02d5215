// Types of the optional compression libraries Sluice loads at run time (dlopen by
// soname, see Sources/Sluice/Codecs/). Nothing here links: a machine without a library
// builds Sluice all the same and gets a clear error naming the package when it meets
// a file that needs it. Each struct is declared from the library's documented ABI,
// with only the fields Sluice touches named; the asserts pin the offsets.
#ifndef SLUICE_CCODECS_H
#define SLUICE_CCODECS_H

#include <stddef.h>
#include <stdint.h>

// MARK: ISA-L, libisal.so.2 (Debian libisal2), igzip_lib.h

/// struct inflate_state: 87368 bytes; the huffman tables and history buffers are opaque.
typedef struct {
    uint8_t *next_out;
    uint32_t avail_out;
    uint32_t total_out;
    uint8_t *next_in;
    uint64_t read_in;
    uint32_t avail_in;
    int32_t read_in_length;
    uint8_t opaque_tables[21120];
    int32_t block_state;   // 5 (ISAL_BLOCK_FINISH): the member and its trailer are done
    uint32_t dict_length;
    uint32_t bfinal;
    uint32_t crc_flag;     // 1 (ISAL_GZIP): parse the gzip header, check CRC-32 and ISIZE
    uint32_t crc;          // CRC-32 of the output so far
    uint32_t hist_bits;
    uint8_t opaque_rest[66184];
} sluice_isal_inflate_state;

_Static_assert(offsetof(sluice_isal_inflate_state, avail_in) == 32, "ISA-L inflate_state ABI");
_Static_assert(offsetof(sluice_isal_inflate_state, block_state) == 21160, "ISA-L inflate_state ABI");
_Static_assert(offsetof(sluice_isal_inflate_state, crc) == 21176, "ISA-L inflate_state ABI");
_Static_assert(sizeof(sluice_isal_inflate_state) == 87368, "ISA-L inflate_state ABI");

/// struct isal_zstream: 82384 bytes, 32-byte aligned; the compressor state is opaque.
typedef struct {
    uint8_t *next_in;
    uint32_t avail_in;
    uint32_t total_in;
    uint8_t *next_out;
    uint32_t avail_out;
    uint32_t total_out;
    void *hufftables;
    uint32_t level;          // 0...3
    uint32_t level_buf_size;
    uint8_t *level_buf;      // caller-owned work buffer for levels 1...3
    uint16_t end_of_stream;
    uint16_t flush;
    uint16_t gzip_flag;      // 1 (IGZIP_GZIP): write a gzip header and trailer
    uint16_t hist_bits;
    uint8_t opaque_state[82320];
} sluice_isal_zstream;

_Static_assert(offsetof(sluice_isal_zstream, level_buf) == 48, "ISA-L isal_zstream ABI");
_Static_assert(offsetof(sluice_isal_zstream, gzip_flag) == 60, "ISA-L isal_zstream ABI");
_Static_assert(sizeof(sluice_isal_zstream) == 82384, "ISA-L isal_zstream ABI");

// MARK: zstd, libzstd.so.1 (Debian libzstd1), zstd.h

typedef struct {
    const void *src;
    size_t size;
    size_t pos;
} sluice_zstd_in_buffer;

typedef struct {
    void *dst;
    size_t size;
    size_t pos;
} sluice_zstd_out_buffer;

// MARK: bzip2, libbz2.so.1.0 (Debian libbz2-1.0), bzlib.h

typedef struct {
    char *next_in;
    unsigned int avail_in;
    unsigned int total_in_lo32;
    unsigned int total_in_hi32;
    char *next_out;
    unsigned int avail_out;
    unsigned int total_out_lo32;
    unsigned int total_out_hi32;
    void *state;
    void *(*bzalloc)(void *, int, int);
    void (*bzfree)(void *, void *);
    void *opaque;
} sluice_bz_stream;

// MARK: xz, liblzma.so.5 (Debian liblzma5), lzma/base.h

typedef struct {
    const uint8_t *next_in;
    size_t avail_in;
    uint64_t total_in;
    uint8_t *next_out;
    size_t avail_out;
    uint64_t total_out;
    const void *allocator;
    void *internal;
    void *reserved_ptr1;
    void *reserved_ptr2;
    void *reserved_ptr3;
    void *reserved_ptr4;
    uint64_t seek_pos;
    uint64_t reserved_int2;
    size_t reserved_int3;
    size_t reserved_int4;
    int reserved_enum1;
    int reserved_enum2;
} sluice_lzma_stream;

#endif
