/// A growable byte buffer for building a batch's new record text with plain stores.
///
/// `[UInt8].append(contentsOf:)` of a few bytes goes through a generic, non-inlined path
/// with a uniqueness check (a runtime call) each time: a `select` of seven fields did ~12
/// such appends per record, ~1,300 instructions, more than looking the fields up. This
/// buffer is owned by one `process` call (it cannot be copied), appends with `memcpy`
/// into spare capacity, and becomes the batch's `[UInt8]` once at the end.
///
/// ```swift
/// var out = OutputBytes(capacity: batch.bytes.count)
/// out.append(UInt8(ascii: "{")) ... 
/// batch.bytes = out.takeArray()
/// ```
struct OutputBytes: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Bytes written so far.
    private(set) var count = 0
    /// Whether `base` is this buffer's own allocation (false while it writes into the
    /// caller's storage, see ``init(writingInto:)``).
    private var ownsStorage: Bool

    init(capacity: Int) {
        self.capacity = Swift.max(capacity, 64)
        base = .allocate(capacity: self.capacity)
        ownsStorage = true
    }

    /// Writes into `storage` (an array's uninitialized capacity) until it is full, then
    /// into storage of its own: ``isInCallerStorage`` says which, so that the common case
    /// needs no copy at the end.
    init(writingInto storage: UnsafeMutableBufferPointer<UInt8>) {
        if let start = storage.baseAddress, storage.count > 0 {
            base = start
            capacity = storage.count
            ownsStorage = false
        } else {
            capacity = 64
            base = .allocate(capacity: capacity)
            ownsStorage = true
        }
    }

    /// Whether every byte written so far is in the storage given to ``init(writingInto:)``.
    var isInCallerStorage: Bool { !ownsStorage }

    deinit {
        if ownsStorage { base.deallocate() }
    }

    /// Makes room for `n` more bytes.
    @inline(__always)
    mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(to: count + n) }
    }

    private mutating func grow(to needed: Int) {
        let newCapacity = Swift.max(needed, capacity * 2)
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        bigger.initialize(from: base, count: count)
        if ownsStorage { base.deallocate() }
        base = bigger
        capacity = newCapacity
        ownsStorage = true
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    /// Copies of up to 16 bytes (keys, ids, short strings: most of a `select`'s appends)
    /// are two overlapping loads and stores, without a call into `memcpy`; every load
    /// stays inside `bytes`.
    @inline(__always)
    mutating func append(_ bytes: UnsafePointer<UInt8>, count n: Int) {
        reserve(n)
        appendReserved(bytes, count: n)
    }

    /// ``append(_:count:)`` into room already made by ``reserve(_:)`` (one capacity check
    /// for several appends).
    @inline(__always)
    mutating func appendReserved(_ bytes: UnsafePointer<UInt8>, count n: Int) {
        let to = UnsafeMutableRawPointer(base + count)
        let from = UnsafeRawPointer(bytes)
        if n >= 8 && n <= 16 {
            let head = from.loadUnaligned(as: UInt64.self)
            let tail = from.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            to.storeBytes(of: head, as: UInt64.self)
            to.storeBytes(of: tail, toByteOffset: n - 8, as: UInt64.self)
        } else if n >= 4 && n < 8 {
            let head = from.loadUnaligned(as: UInt32.self)
            let tail = from.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
            to.storeBytes(of: head, as: UInt32.self)
            to.storeBytes(of: tail, toByteOffset: n - 4, as: UInt32.self)
        } else if n > 0 && n < 4 {
            let first = bytes[0], middle = bytes[n >> 1], last = bytes[n - 1]
            base[count] = first
            base[count + (n >> 1)] = middle
            base[count + n - 1] = last
        } else if n > 16 {
            (base + count).initialize(from: bytes, count: n)
        }
        count += n
    }

    /// Appends `n` bytes from a source padded to a multiple of 16 bytes, copying whole
    /// 16-byte blocks: the caller has reserved `n` rounded up to 16 (the bytes past `n`
    /// are scratch, overwritten by the next append). Used for `select`'s key prefixes.
    @inline(__always)
    mutating func appendPadded(_ bytes: UnsafePointer<UInt8>, count n: Int) {
        let to = UnsafeMutableRawPointer(base + count)
        let from = UnsafeRawPointer(bytes)
        var k = 0
        repeat {
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: k, as: UInt64.self), toByteOffset: k, as: UInt64.self)
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: k + 8, as: UInt64.self), toByteOffset: k + 8, as: UInt64.self)
            k += 16
        } while k < n
        count += n
    }

    /// Lets `body` write into room already made by ``reserve(_:)``, at the end; `body`
    /// returns how many bytes it wrote, which are kept, or a negative number: nothing is
    /// kept (false).
    @inline(__always)
    mutating func appendReserved(_ body: (UnsafeMutablePointer<UInt8>) -> Int) -> Bool {
        let n = body(base + count)
        guard n >= 0 else { return false }
        count += n
        return true
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        if let start = bytes.baseAddress { append(start, count: bytes.count) }
    }

    /// Takes back the last `n` bytes written (a record that failed half way).
    @inline(__always)
    mutating func removeLast(_ n: Int) {
        precondition(n >= 0 && n <= count)
        count -= n
    }

    /// Appends the decimal text of `value`.
    @inline(__always)
    mutating func append(decimal value: Int64) {
        reserve(20)
        appendReserved(decimal: value)
    }

    /// ``append(decimal:)`` into at least 20 bytes of room already made by ``reserve(_:)``.
    /// The digit count comes first (comparisons, no division), then the digits are
    /// written from the last one back, in place.
    @inline(__always)
    mutating func appendReserved(decimal value: Int64) {
        var magnitude = value.magnitude
        if value < 0 {
            base[count] = UInt8(ascii: "-")
            count += 1
        }
        var digits = 1
        var power: UInt64 = 10
        while digits < 20 && magnitude >= power {
            digits += 1
            power = power &* 10
        }
        var position = count + digits
        count = position
        repeat {
            position -= 1
            base[position] = UInt8(truncatingIfNeeded: magnitude % 10) &+ UInt8(ascii: "0")
            magnitude /= 10
        } while magnitude != 0
    }

    /// The bytes written, as an array (one copy); the buffer is freed.
    consuming func takeArray() -> [UInt8] {
        let n = count
        let source = base
        return [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
            if n > 0 { buffer.baseAddress!.initialize(from: source, count: n) }
            initialized = n
        }
    }
}
