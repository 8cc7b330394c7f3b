// Prints the literals of the shipped device profiles' patterns (profileLiterals) as JSON, for
// scripts/build.mjs to put into the bundle: the first report then does not work them out.
import { loadDeviceProfileData, profileLiterals } from '../src/knowledge/device-profiles.ts';

process.stdout.write(JSON.stringify(profileLiterals(loadDeviceProfileData())));
