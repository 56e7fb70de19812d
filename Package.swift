// swift-tools-version:6.0
import PackageDescription

/// The release link of `happy` (see HappyCLI's linkerSettings): lld, packed relative relocations, no exported symbols.
let leanStartLinkFlags = [
    "-use-ld=lld", "-Xlinker", "--no-export-dynamic", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
]

/// Our own Swift targets: a warning fails the debug build, which is what `make test` builds (STYLE §7); release builds
/// for users are not failed by a newer toolchain's new warnings.
let strict: [SwiftSetting] = [.unsafeFlags(["-warnings-as-errors"], .when(configuration: .debug))]

let package = Package(
    name: "happy",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "happy", targets: ["HappyCLI"]),
        .executable(name: "happy-test-server", targets: ["HappyTestServerMain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"6.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSodium", pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]),
        .systemLibrary(
            name: "CQRencode", pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"]), .brew(["qrencode"])]),
        // OpenSSL's headers only: nothing is linked (happy calls nothing in libssl, TLS being swift-nio-ssl's own
        // BoringSSL; libcrypto is loaded on first use through CLazyCrypto).
        .systemLibrary(name: "COpenSSL", providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]),
        // The OpenSSL functions happy calls, as stubs that load libcrypto.so.3 on first use (include/lazy_crypto.h,
        // scripts/gen-lazy-crypto.py): start-up, and so `status`, never loads it.
        .target(name: "CLazyCrypto"),
        // Types and constants only (the header p11-kit ships): modules are dlopen-ed, so nothing is linked.
        .systemLibrary(name: "CPKCS11", providers: [.apt(["libp11-kit-dev"]), .brew(["p11-kit"])]),
        .target(
            name: "HappyKit",
            dependencies: [
                "CSodium", "CQRencode", "COpenSSL", "CLazyCrypto", "CPKCS11",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "HappyCLI",
            dependencies: ["HappyKit", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict,
            linkerSettings: [
                // Start-up is a feature (`make bench`). lld packs the binary's ~73,000 relative relocations into a
                // few KB (DT_RELR, glibc 2.36+) instead of the 1.7 MB of RELA entries the loader would read at every
                // start; and the executable exports no symbols (swiftc's static-stdlib link exports all ~25,000 of
                // ours, which only makes the tables the loader maps and searches bigger).
                .unsafeFlags(leanStartLinkFlags, .when(configuration: .release))
            ]),
        .target(
            name: "HappyTestServer",
            dependencies: [
                "HappyKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "HappyTestServerMain",
            dependencies: ["HappyTestServer", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),
        // What the three test targets share (fakes, `Locked`, `Screen`, contexts, sandboxes); never in a product.
        .target(
            name: "HappyTestSupport", dependencies: ["HappyKit"], path: "Tests/HappyTestSupport", swiftSettings: strict),
        .testTarget(name: "HappyKitTests", dependencies: ["HappyKit", "HappyTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "HappyCLITests", dependencies: ["HappyCLI", "HappyKit", "HappyTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "HappyKit", "HappyTestServer", "HappyCLI", "HappyTestServerMain", "HappyTestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strict),
    ]
)
