/// The date-times of inbox filter options, as the plugins write them, read into the
/// epoch milliseconds the Mobile API takes (`dateTimeFrom`, `dateTimeTo`).
///
/// Cordova and React Native document `2024-03-11T12:00:00+01:00`; Flutter's
/// `FilterOptions.toJson` writes `2024-03-11T12:00:00Z`; the iOS SDK reads them with
/// `yyyy-MM-dd'T'HH:mm:ssZZZZZ` and the Android SDK with `yyyy-MM-dd'T'HH:mm:ssZ` or
/// `...ssX`, so the zone may be `Z`, `+01:00`, `+0100` or `+01`. A fraction of a second
/// (JavaScript's `Date.toISOString()` writes `.000Z`) is accepted too. Anything else is
/// refused with the expected form: the iOS SDK would drop such a filter without a
/// word and fetch the whole inbox.
enum InboxDateTime {
    static let expectedForm = "must be an ISO 8601 date-time with seconds and a time zone, e.g. 2024-03-11T12:00:00+01:00 or 2024-03-11T12:00:00Z"

    /// Milliseconds since the epoch, or `nil` when `text` is not in one of the forms above.
    static func epochMilliseconds(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let year = digits(bytes, 0..<4), let month = digits(bytes, 5..<7), let day = digits(bytes, 8..<10),
            let hour = digits(bytes, 11..<13), let minute = digits(bytes, 14..<16), let second = digits(bytes, 17..<19),
            WireCheck.isCalendarDate(String(decoding: bytes[0..<10], as: UTF8.self)),
            hour < 24, minute < 60, second < 60
        else { return nil }

        var index = 19
        var milliseconds: Int64 = 0
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            guard index > start, index - start <= 9 else { return nil }
            // Milliseconds are what the Mobile API takes; finer digits are cut.
            let kept = bytes[start..<min(index, start + 3)]
            let fraction = kept.reduce(Int64(0)) { $0 * 10 + Int64($1 - UInt8(ascii: "0")) }
            let scale: [Int64] = [100, 10, 1]
            milliseconds = fraction * scale[kept.count - 1]
        }
        guard let offsetMinutes = zoneOffsetMinutes(bytes[index...]) else { return nil }

        let days = daysSinceEpoch(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetMinutes) * 60
        return seconds * 1000 + milliseconds
    }

    /// `Z`, `±HH:MM`, `±HHMM` or `±HH` (at most 18 hours, as ISO 8601 practice has it).
    private static func zoneOffsetMinutes(_ zone: ArraySlice<UInt8>) -> Int? {
        let zone = Array(zone)
        if zone == [UInt8(ascii: "Z")] { return 0 }
        guard let sign = zone.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-"), let hours = digits(zone, 1..<3) else {
            return nil
        }
        let minutes: Int?
        switch zone.count {
        case 3: minutes = 0
        case 5: minutes = digits(zone, 3..<5)
        case 6 where zone[3] == UInt8(ascii: ":"): minutes = digits(zone, 4..<6)
        default: minutes = nil
        }
        guard let minutes, hours <= 18, minutes < 60 else { return nil }
        let offset = hours * 60 + minutes
        return sign == UInt8(ascii: "-") ? -offset : offset
    }

    private static func digits(_ bytes: [UInt8], _ range: Range<Int>) -> Int? {
        guard range.upperBound <= bytes.count else { return nil }
        var value = 0
        for index in range {
            guard isDigit(bytes[index]) else { return nil }
            value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
        }
        return value
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
