// Describing untrusted values in error messages lives in @pushpull/common (the profile validator there
// uses it too); re-exported for the producer's own modules.
export { describeValue } from '@pushpull/common';
