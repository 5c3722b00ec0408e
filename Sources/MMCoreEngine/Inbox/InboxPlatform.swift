/// The platform segment of the inbox path, `/mobile/1/user/{externalUserId}/inbox/{segment}/messages`.
///
/// The iOS SDK asks for `apns`, the Android SDK (and the Java API client's default)
/// for `gcm`; the inbox is the person's either way, only the shape of each message
/// follows the segment, and ``InboxMessage`` reads both. The core asks as the native
/// SDK of the platform it runs on would: `apns` on Apple platforms, `gcm` everywhere
/// else (Android, and Linux, where the tests run).
enum InboxPlatform {
    #if canImport(Darwin)
        static let segment = "apns"
    #else
        static let segment = "gcm"
    #endif
}
