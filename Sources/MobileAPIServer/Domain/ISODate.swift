/// ISO 8601 as clients write dates: `yyyy-MM-dd`, and date-times such as
/// `2026-02-26T09:41:57Z`, `2026-02-26T09:41:57.123+01:00` or `...+0100` (iOS writes
/// `ZZZZZ`, Android `'Z'` or `Z`). Checked by hand so that every accepted string names a
/// real instant, whatever the host's locale or calendar.
enum ISODate {
    /// `yyyy-MM-dd` naming a day that exists.
    static func isDate(_ text: some StringProtocol) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            year >= 1, (1...12).contains(month), day >= 1, day <= Validate.daysIn(month: month, year: year)
        else { return false }
        return true
    }

    /// A date, `T`, `HH:mm:ss` with optional fraction, and a zone (`Z` or an offset).
    static func isDateTime(_ text: String) -> Bool {
        guard let separator = text.firstIndex(where: { $0 == "T" || $0 == "t" }),
            isDate(text[..<separator])
        else { return false }
        var rest = text[text.index(after: separator)...]
        guard rest.count >= 8 else { return false }
        let clock = rest.prefix(8)
        rest = rest.dropFirst(8)
        let fields = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count == 3, fields.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCIIDigit) }),
            let hour = Int(fields[0]), let minute = Int(fields[1]), let second = Int(fields[2]),
            hour <= 23, minute <= 59, second <= 60
        else { return false }
        if rest.first == "." {
            let digits = rest.dropFirst().prefix(while: \.isASCIIDigit)
            guard (1...9).contains(digits.count) else { return false }
            rest = rest.dropFirst(1 + digits.count)
        }
        return isZone(rest)
    }

    /// A date or a date-time: what a `date` property may hold.
    static func isDateOrDateTime(_ text: String) -> Bool {
        isDate(text) || isDateTime(text)
    }

    /// `Z`, `±hh:mm` or `±hhmm`.
    static func isZone(_ text: Substring) -> Bool {
        if text == "Z" || text == "z" { return true }
        guard let sign = text.first, sign == "+" || sign == "-" else { return false }
        let digits = text.dropFirst().filter { $0 != ":" }
        let colons = text.dropFirst().filter { $0 == ":" }.count
        guard digits.count == 4, digits.allSatisfy(\.isASCIIDigit), colons <= 1,
            colons == 0 || text.dropFirst().dropFirst(2).first == ":",
            let hours = Int(digits.prefix(2)), let minutes = Int(digits.suffix(2)), hours <= 23, minutes <= 59
        else { return false }
        return true
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
