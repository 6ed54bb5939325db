/**
 * The limits on the operator's labels, apart from the parsers so the browser
 * (the rule editor, the device page's form) can use them without the server's
 * CSV reader.
 */
export const TAG_PATTERN = /^[a-z0-9_.:-]{1,64}$/;
export const MAX_TAGS = 32;
export const MAX_NAME = 200;
export const MAX_NOTES = 4000;
