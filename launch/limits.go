package launch

// MaxRunID bounds a probe's run id, <launch-id>-<subnet>, in either runner: the probe refuses a
// --run-id (VPCPROBE_RUN_ID) of more than 128 characters (cmd/vpcprobe, options.config), so a
// longer one would make every probe exit 2.
const MaxRunID = 128
