/// The core's version: sent as `User-Agent: mmcore/<version>` and as the installation's
/// `sdkVersion` at registration, so server logs tell which core made a request.
public enum CoreVersion {
    public static let current = "0.1.0"
    public static let userAgent = "mmcore/\(current)"
}
