import Foundation
import Sluice

/// `sluice help TOPIC`: the reference topics (stages, functions, ...). `sluice help
/// SUBCOMMAND` stays ArgumentParser's own help of that subcommand.
enum HelpCommand {
    /// Handles `help TOPIC [NAME]` and a bare `help`; returns nil to let ArgumentParser
    /// handle the arguments (`help run`, `run --help`).
    static func exitCode(for arguments: [String]) -> Int32? {
        guard arguments.first == "help" else { return nil }
        let rest = Array(arguments.dropFirst())
        guard let word = rest.first else {
            print("Topics:\n\n" + HelpTopic.overview)
            return 0
        }
        guard let topic = HelpTopic(rawValue: word) else { return nil }
        do {
            let markdown = try HelpTopic.markdown(topic, name: rest.dropFirst().first)
            print(TerminalText.render(markdown, width: terminalWidth()), terminator: "")
            return 0
        } catch {
            FileHandle.standardError.write(Data("sluice help: \(error.description)\n".utf8))
            return 2
        }
    }

    /// The terminal's width (COLUMNS, else the tty's, else 80), at most 100.
    static func terminalWidth() -> Int {
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 0 {
            return min(columns, 100)
        }
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return min(Int(size.ws_col), 100) }
        return 80
    }
}
