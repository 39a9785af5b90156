/** Fernet (spec-compatible, interoperable with Python `cryptography`) and encrypted personal profiles. */
export {
  Fernet,
  MultiFernet,
  InvalidToken,
  FernetKeyError,
  MAX_CLOCK_SKEW_S,
  fernetFromEnv,
  fernetFromKeys,
  decodeBase64UrlStrict,
  decodeBase64UrlPython,
  encodeBase64UrlPadded,
} from './fernet';
export type { FernetCipher, FernetOptions, InvalidTokenReason, TokenBase64Mode } from './fernet';
export {
  ProfileError,
  AGE_GROUPS,
  MAX_PROFILE_ID_LENGTH,
  DEFAULT_MAX_STEP_PCT,
  PHOTOSENSITIVE_MAX_STEP_PCT,
  OLDER_MIN_INTENSITY_PCT,
  IMPAIRED_MIN_INTENSITY_PCT,
  parseProfileBlob,
  parseProfilePayload,
  profileToPayload,
  decryptProfile,
  encryptProfile,
  profileHints,
} from './profile';
export type {
  AgeGroup,
  CctBias,
  CctRangeKelvin,
  DecryptProfileOptions,
  EncryptedProfileBlob,
  PersonalProfile,
  ProfileErrorCode,
  ProfileHints,
} from './profile';
