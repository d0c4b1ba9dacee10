"""The Nova image proxy (microversions up to 2.35); see the storage issue."""
