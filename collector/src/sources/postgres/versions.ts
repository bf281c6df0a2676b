// server_version_num of each supported major: SQL in the catalogue is keyed by these.
export const PG13 = 130000;
export const PG14 = 140000;
export const PG15 = 150000;
export const PG16 = 160000;
export const PG17 = 170000;
export const PG18 = 180000;
export const SUPPORTED_MAJORS = [PG13, PG14, PG15, PG16, PG17, PG18] as const;
/** The oldest server we collect from; older ones get an `up` row with an error and nothing else. */
export const MIN_SUPPORTED = PG13;
