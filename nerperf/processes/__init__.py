"""nerperf's child pytest processes: starting, pinning and stopping them (children), taking turns between two of
them (lockstep), the raw-sample files they leave (samples), and N of them at once (``nerperf parallel``).
Below both the plugin (a child) and the gate (a parent), so neither imports the other."""
