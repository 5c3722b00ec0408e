import Foundation
import Testing

/// docs/native-parity.md names, in the last column of each behaviour row, the tests that
/// prove it (`Suite/test`, `.../test` and a bare `test` for another test of the suite just
/// named, `Suite` alone, or a test directory). A renamed or moved-away test would leave
/// the row pointing at nothing; this reads the table and finds every name under Tests/,
/// by suite and function name rather than by file, so moving a test between files is fine.
@Suite struct NativeParityRowsTests {
    static let root = CoreProcess.packageRoot

    @Test func everyRowNamesTestsThatExist() throws {
        let table = try String(contentsOf: Self.root.appendingPathComponent("docs/native-parity.md"), encoding: .utf8)
        let rows = ParityRow.rows(inMarkdown: table)
        // The table has 38 rows today; far fewer means the rows were not recognised.
        #expect(rows.count >= 38, "found only \(rows.count) numbered rows in docs/native-parity.md")
        let index = try TestIndex(testsDirectory: Self.root.appendingPathComponent("Tests"))
        for row in rows {
            #expect(!row.references.isEmpty, "row \(row.number) names no test")
            #expect(row.unrecognised.isEmpty, "row \(row.number): not a test reference: \(row.unrecognised)")
            for reference in row.references {
                if let problem = index.problem(with: reference, root: Self.root) {
                    Issue.record("row \(row.number): \(problem)")
                }
            }
        }
    }

    /// The check itself must be able to fail: a row naming a test that is not there.
    @Test func aRenamedTestIsReported() throws {
        let table = """
            | # | behaviour | test |
            |---|---|---|
            | 1 | a | `NativeParityRowsTests/everyRowNamesTestsThatExist`, `.../aRenamedTestIsReported` (its `null` case) |
            | 2 | b | `NativeParityRowsTests/theOldNameOfATest`, `everyRowNamesTestsThatExist`, `NoSuchSuiteTests` |
            """
        let rows = ParityRow.rows(inMarkdown: table)
        #expect(rows.map(\.number) == [1, 2])
        #expect(rows.allSatisfy { $0.unrecognised.isEmpty })
        let index = try TestIndex(testsDirectory: Self.root.appendingPathComponent("Tests"))
        let problems = rows.map { row in row.references.compactMap { index.problem(with: $0, root: Self.root) } }
        #expect(problems[0].isEmpty, "\(problems[0])")
        #expect(problems[1].count == 2, "\(problems[1])")
        #expect(problems[1].contains { $0.contains("theOldNameOfATest") })
        #expect(problems[1].contains { $0.contains("NoSuchSuiteTests") })
    }
}

/// One numbered row of the table and what its last column names.
struct ParityRow {
    enum Reference: Equatable, CustomStringConvertible {
        case test(suite: String, name: String)
        case suite(String)
        case directory(String)

        var description: String {
            switch self {
            case .test(let suite, let name): "\(suite)/\(name)"
            case .suite(let suite): suite
            case .directory(let path): path
            }
        }
    }

    let number: Int
    var references: [Reference] = []
    /// Code spans in the test column that are none of the forms above.
    var unrecognised: [String] = []

    /// Rows whose first cell is a number; the test column is the last one.
    static func rows(inMarkdown text: String) -> [ParityRow] {
        text.split(separator: "\n").compactMap { line in
            let cells = line.trimmingCharacters(in: .whitespaces).split(separator: "|", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            // "| 1 | ... | test |" splits into "", "1", ..., "test", "".
            guard cells.count >= 4, cells.first == "", cells.last == "", let number = Int(cells[1]) else { return nil }
            return ParityRow(number: number, testColumn: cells[cells.count - 2])
        }
    }

    init(number: Int, testColumn: String) {
        self.number = number
        var suite: String?
        // Parenthesised text qualifies a name ("(its `null` case)"); it names no test.
        for span in Self.codeSpans(in: Self.withoutParentheses(testColumn)) {
            let parts = span.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            if span.hasPrefix("Tests/") {
                references.append(.directory(span))
            } else if parts.count == 2, parts[0] == "..." || Self.isIdentifier(parts[0]), Self.isIdentifier(parts[1]) {
                if parts[0] != "..." { suite = parts[0] }
                if let suite { references.append(.test(suite: suite, name: parts[1])) } else { unrecognised.append(span) }
            } else if Self.isIdentifier(span), span.hasSuffix("Tests") {
                suite = span
                references.append(.suite(span))
            } else if Self.isIdentifier(span), span.first?.isLowercase == true, let suite {
                references.append(.test(suite: suite, name: span))
            } else {
                unrecognised.append(span)
            }
        }
    }

    static func isIdentifier(_ text: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    static func withoutParentheses(_ text: String) -> String {
        var depth = 0
        var kept = ""
        for character in text {
            if character == "(" { depth += 1 }
            if depth == 0 { kept.append(character) }
            if character == ")" { depth = max(depth - 1, 0) }
        }
        return kept
    }

    static func codeSpans(in text: String) -> [String] {
        let pieces = text.split(separator: "`", omittingEmptySubsequences: false)
        return stride(from: 1, to: pieces.count, by: 2).map { String(pieces[$0]) }
    }
}

/// The `func` names under Tests/, by the top-level type (or extension) they are written in.
struct TestIndex {
    private(set) var functions: [String: Set<String>] = [:]

    init(testsDirectory: URL) throws {
        let files = FileManager.default.enumerator(at: testsDirectory, includingPropertiesForKeys: nil)
        let function = try Regex(#"\bfunc\s+([A-Za-z_][A-Za-z0-9_]*)"#)
        while let file = files?.nextObject() as? URL {
            guard file.pathExtension == "swift" else { continue }
            var type = ""
            for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") {
                if let name = Self.topLevelTypeName(String(line)) {
                    type = name
                    if functions[name] == nil { functions[name] = [] }
                }
                for match in line.matches(of: function) {
                    if let name = match.output[1].substring { functions[type, default: []].insert(String(name)) }
                }
            }
        }
    }

    /// Why `reference` names nothing, or `nil` when it is there.
    func problem(with reference: ParityRow.Reference, root: URL) -> String? {
        switch reference {
        case .directory(let path):
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path, isDirectory: &isDirectory)
            return exists && isDirectory.boolValue ? nil : "\(path) is not a directory"
        case .suite(let suite):
            return functions[suite] == nil ? "no suite \(suite) under Tests/" : nil
        case .test(let suite, let name):
            guard let names = functions[suite] else { return "no suite \(suite) under Tests/ (for \(reference))" }
            return names.contains(name) ? nil : "no func \(name) in \(suite) under Tests/ (renamed or moved?)"
        }
    }

    /// `Name` from a declaration at the start of a line: `struct Name`, `@Suite(...) struct
    /// Name`, `final class Name`, `extension Name`. Indented lines are nested and ignored.
    static func topLevelTypeName(_ line: String) -> String? {
        var rest = Substring(line)
        guard let first = rest.first, !first.isWhitespace else { return nil }
        // Attributes, with balanced parentheses: `@Suite(.timeLimit(.minutes(2)))`.
        while rest.first == "@" {
            rest = rest.dropFirst().drop { $0.isLetter || $0.isNumber || $0 == "_" }
            if rest.first == "(" {
                var depth = 0
                var end = rest.startIndex
                for index in rest.indices {
                    if rest[index] == "(" { depth += 1 }
                    if rest[index] == ")" { depth -= 1 }
                    if depth == 0 {
                        end = rest.index(after: index)
                        break
                    }
                }
                guard depth == 0 else { return nil }
                rest = rest[end...]
            }
            rest = rest.drop { $0 == " " }
        }
        let words = rest.split(separator: " ", maxSplits: 8).map(String.init)
        let modifiers: Set<String> = ["final", "public", "private", "fileprivate", "internal", "package"]
        guard let keyword = words.firstIndex(where: { !modifiers.contains($0) }),
            ["struct", "class", "enum", "actor", "extension"].contains(words[keyword]), keyword + 1 < words.count
        else { return nil }
        let name = words[keyword + 1].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        return name.isEmpty ? nil : String(name)
    }
}
