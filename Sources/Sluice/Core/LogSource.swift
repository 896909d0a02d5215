/// The `source` of log lines written from any layer target: swift-log's default is the
/// calling module, and the text log prints it (`[Sluice]`), so lines from SluiceStages or
/// SluiceIO name the library as they did before the module split.
package let logSource = "Sluice"
