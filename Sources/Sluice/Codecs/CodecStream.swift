/// The decoded stream of one compressed file: every frame of it, in order, as one stream.
///
/// The caller points it at compressed input with ``setInput(_:count:)`` and asks for
/// output with ``decode(into:capacity:)``; at the end of the file it calls
/// ``finish(into:capacity:)`` until that returns 0. Between frames the next byte decides:
/// the start of another frame is decoded (concatenated files, pigz and Sluice's own
/// multi-member output, multi-stream bzip2); a zero byte starts *padding*, which may run
/// to the end of the file and is then ignored with a warning (``trailingZeroBytes``), as
/// GNU gzip does; anything else — or a non-zero byte after padding — is an error, not
/// ignored garbage: it may be a damaged frame whose records would otherwise vanish.
///
/// Not thread-safe: one reader owns one stream.
final class CodecStream {
    let codec: any Codec
    private let decoder: any FrameDecoder
    private var input: UnsafePointer<UInt8>?
    /// Compressed bytes not consumed yet.
    private(set) var pendingInput = 0
    /// Frames decoded to their end so far.
    private(set) var finishedFrames = 0
    /// Zero bytes after the last frame, ignored.
    private(set) var trailingZeroBytes = 0

    private enum State { case inFrame, betweenFrames, padding }
    private var state = State.inFrame
    private var frameConsumed = 0
    private var frameProduced = 0

    init(codec: any Codec, options: CodecOptions) throws(CodecError) {
        self.codec = codec
        decoder = try codec.makeFrameDecoder(options)
    }

    /// The type of the frame decoder (which library decodes).
    var decoderType: any FrameDecoder.Type { type(of: decoder) }

    /// True between the first byte of a frame and its end.
    var isInFrame: Bool { state == .inFrame }

    /// Supplies the next compressed bytes; they must stay valid until consumed.
    func setInput(_ bytes: UnsafePointer<UInt8>, count: Int) {
        input = bytes
        pendingInput = count
    }

    /// Decodes pending input into `output`, stopping when the input runs out or the
    /// output is full.
    ///
    /// - Parameter inputIsFinal: the pending input runs to the end of the file, so a
    ///   short tail that cannot start a frame is known to be garbage.
    /// - Returns: bytes written to `output`.
    /// - Throws: ``StreamError`` for bad data, with the frame it is in.
    func decode(into output: UnsafeMutablePointer<UInt8>, capacity: Int, inputIsFinal: Bool = false) throws(StreamError) -> Int {
        var produced = 0
        while produced < capacity {
            switch state {
            case .betweenFrames:
                guard pendingInput > 0, let input else { return produced }
                if input.pointee == 0 {
                    state = .padding
                    continue
                }
                let look = min(pendingInput, Codecs.magicLength)
                if look == Codecs.magicLength || inputIsFinal, !codec.matches(UnsafeRawBufferPointer(start: input, count: look)) {
                    throw StreamError(message: "bytes that do not start a \(codec.name) \(codec.frameNoun) (garbage after the end of \(codec.frameNoun) \(finishedFrames))",
                                      frame: finishedFrames + 1, rewind: 0)
                }
                do { try decoder.reset() } catch { throw fail(error) }
                state = .inFrame
                frameConsumed = 0
                frameProduced = 0
            case .padding:
                guard pendingInput > 0, let input else { return produced }
                var zeros = 0
                while zeros < pendingInput && input[zeros] == 0 { zeros += 1 }
                trailingZeroBytes += zeros
                consume(zeros)
                if pendingInput > 0 {
                    throw StreamError(message: "a non-zero byte after \(trailingZeroBytes) bytes of zero padding that follow \(codec.frameNoun) \(finishedFrames) (only zero bytes may follow the last \(codec.frameNoun))",
                                      frame: finishedFrames, rewind: 0)
                }
                return produced
            case .inFrame:
                let step: DecodeStep
                do {
                    step = try decoder.decode(UnsafeRawBufferPointer(start: input, count: pendingInput),
                                              into: UnsafeMutableRawBufferPointer(start: output + produced, count: capacity - produced))
                } catch {
                    consume(min(error.consumed, pendingInput))
                    frameConsumed += error.consumed
                    throw fail(error)
                }
                consume(step.consumed)
                frameConsumed += step.consumed
                frameProduced += step.produced
                produced += step.produced
                if step.frameEnded {
                    finishedFrames += 1
                    state = .betweenFrames
                } else if step.consumed == 0 && step.produced == 0 {
                    return produced
                }
            }
        }
        return produced
    }

    /// At the end of the file: what the decoder still holds (xz), 0 when done.
    ///
    /// - Throws: ``StreamError`` when the file ends inside a frame (truncated).
    func finish(into output: UnsafeMutablePointer<UInt8>, capacity: Int) throws(StreamError) -> Int {
        guard state == .inFrame else { return 0 }
        let step: DecodeStep
        do {
            step = try decoder.finish(into: UnsafeMutableRawBufferPointer(start: output, count: capacity))
        } catch {
            throw fail(error)
        }
        frameProduced += step.produced
        if step.frameEnded {
            finishedFrames += 1
            state = .betweenFrames
        } else if step.produced == 0 {
            throw StreamError(message: "\(codec.name) stream is truncated", frame: finishedFrames + 1, rewind: 0, isTruncation: true)
        }
        return step.produced
    }

    private func consume(_ count: Int) {
        input = input.map { $0 + count }
        pendingInput -= count
    }

    private func fail(_ error: CodecError) -> StreamError {
        var message = error.message
        // A "frame" after the first that fails in its first bytes was never a frame.
        if finishedFrames > 0 && frameProduced == 0 && frameConsumed < 16 {
            message += " (garbage after the end of \(codec.frameNoun) \(finishedFrames))"
        }
        return StreamError(message: message, frame: finishedFrames + 1, rewind: error.rewind)
    }
}

/// Bad data in a compressed file.
struct StreamError: Error {
    var message: String
    /// 1-based index of the frame holding the bad bytes.
    var frame: Int
    /// See ``CodecError/rewind``.
    var rewind: Int
    var isTruncation = false
}
