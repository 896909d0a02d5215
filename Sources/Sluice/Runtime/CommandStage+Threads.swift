import SluiceStages

// Kept beside the runtime until `CommandStage.swift` (owned with the stage library)
// declares it itself; one line to move.
extension CommandStage {
    /// A `command` stage waits on its child processes: it runs on its own threads.
    public var blocksThread: Bool { true }
}
