// The `Sluice` library is the facade over its layer targets (ARCHITECTURE.md): code that
// does `import Sluice` (the CLI, the bench) sees the public API of every layer.
@_exported import SluiceCore
@_exported import SluiceIO
@_exported import SluiceStages
