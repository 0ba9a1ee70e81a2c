"""The register of copies (реестр бумажных копий ЭЖ) kept by the secretary."""
