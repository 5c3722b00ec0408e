import Testing

@testable import JSONRPC

@Suite struct LineFramerTests {
    private func lines(_ events: [LineEvent]) -> [String] {
        events.map { event in
            switch event {
            case .line(let bytes): String(decoding: bytes, as: UTF8.self)
            case .lineTooLong: "<too long>"
            }
        }
    }

    /// Feeds `chunks` in order, then ends the input.
    private func frame(_ chunks: [String], maxLineBytes: Int = LineFramer.defaultMaxLineBytes) -> [String] {
        var framer = LineFramer(maxLineBytes: maxLineBytes)
        var events: [LineEvent] = []
        for chunk in chunks { events += framer.append(Array(chunk.utf8)) }
        events += framer.finish()
        return lines(events)
    }

    @Test func aLineSplitAcrossReadsIsReassembled() {
        #expect(frame([#"{"jsonrpc":"#, #""2.0","met"#, "hod\":\"a\"}\n"]) == [#"{"jsonrpc":"2.0","method":"a"}"#])
    }

    @Test func manyMessagesInOneReadAreSeparated() {
        #expect(frame(["1\n2\n3\n"]) == ["1", "2", "3"])
    }

    @Test func eachByteInItsOwnRead() {
        let text = "[1]\r\n{\"a\":2}\n"
        #expect(frame(text.map { String($0) }) == ["[1]", #"{"a":2}"#])
    }

    @Test(arguments: ["a\r\nb\r\n", "a\nb\n", "a\r\nb"])
    func crlfAndLfEndingsAreBothAccepted(input: String) {
        #expect(frame([input]) == ["a", "b"])
    }

    @Test func aCarriageReturnSplitFromItsNewlineIsStillAnEnding() {
        #expect(frame(["a\r", "\nb\n"]) == ["a", "b"])
    }

    @Test func emptyAndBlankLinesAreIgnored() {
        #expect(frame(["\n\n  \n\t\r\n1\n \r\n\n2\n\n"]) == ["1", "2"])
    }

    @Test func anUnterminatedLastLineIsStillALine() {
        #expect(frame(["1\n2"]) == ["1", "2"])
        #expect(frame(["1\n  "]) == ["1"])
    }

    @Test func aLineOverTheLimitIsReportedOnceThenTheNextLineIsServed() {
        let long = String(repeating: "x", count: 100)
        #expect(frame([long + "\n" + "ok\n"], maxLineBytes: 10) == ["<too long>", "ok"])
        // Streamed in chunks smaller than the limit, it is still reported exactly once.
        #expect(frame(Array(repeating: "xxxx", count: 25) + ["\nok\n"], maxLineBytes: 10) == ["<too long>", "ok"])
    }

    @Test func theLimitCountsTheLineWithoutItsEnding() {
        let atLimit = String(repeating: "x", count: 10)
        #expect(frame([atLimit + "\n"], maxLineBytes: 10) == [atLimit])
        #expect(frame([atLimit + "\r\n"], maxLineBytes: 10) == [atLimit])
        #expect(frame([atLimit + "x\n"], maxLineBytes: 10) == ["<too long>"])
        #expect(frame([atLimit + "x\r\n"], maxLineBytes: 10) == ["<too long>"])
        #expect(frame([atLimit + "x"], maxLineBytes: 10) == ["<too long>"])
    }

    @Test func anOverLongLineIsNotBuffered() {
        // 5 MiB in 64 KiB chunks against a 1 KiB limit: the event comes as soon as the
        // limit is passed, long before the line ends, and nothing more until it ends.
        var framer = LineFramer(maxLineBytes: 1024)
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)
        #expect(framer.append(chunk) == [.lineTooLong])
        for _ in 1..<80 { #expect(framer.append(chunk).isEmpty) }
        #expect(framer.append(Array("\n[1]\n".utf8)) == [.line(Array("[1]".utf8))])
    }

    @Test func bytesArePassedThroughUntouched() {
        // Framing does not judge UTF-8: the parser does, and answers a parse error.
        var framer = LineFramer()
        #expect(framer.append([0x22, 0xFF, 0xFE, 0x22, 0x0A]) == [.line([0x22, 0xFF, 0xFE, 0x22])])
    }
}
