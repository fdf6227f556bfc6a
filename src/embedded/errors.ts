// Errors the embedded server returns to clients, shaped as MongoDB shapes them ({ok:0, errmsg, code, codeName}).

/** The MongoDB error codes this server uses, by name. One registry so a code is never typed twice. */
export const ErrorCodes = {
  InternalError: 1,
  BadValue: 2,
  FailedToParse: 9,
  TypeMismatch: 14,
  Unauthorized: 13,
  IllegalOperation: 20,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  PathNotViable: 28,
  ConflictingUpdateOperators: 40,
  CursorNotFound: 43,
  NamespaceExists: 48,
  DollarPrefixedFieldName: 52,
  InvalidIdField: 53,
  CommandNotFound: 59,
  ImmutableField: 66,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  OperationFailed: 96,
  WriteConflict: 112,
  ConflictingOperationInProgress: 117,
  TransactionTooOld: 225,
  NoSuchTransaction: 251,
  TransactionCommitted: 256,
  InvalidResumeToken: 260,
  OperationNotSupportedInTransaction: 263,
  ChangeStreamFatalError: 280,
  ChangeStreamHistoryLost: 286,
  DocumentValidationFailure: 121,
  CommandNotSupportedOnView: 166,
  ViewDepthLimitExceeded: 165,
  MergeStageNoMatchingDocument: 13113,
  DuplicateKey: 11000,
  Location40324: 40324,
  Location40573: 40573,
  MaxTimeMSExpired: 50,
  ClientDisconnect: 279,
  InvalidLength: 51024,
  NoMatchingDocument: 47,
  Location40323: 40323,
  Location40414: 40414,
  Location40415: 40415,
  Location40602: 40602,
  Location40674: 40674,
  Location50808: 50808,
  Location15976: 15976,
  Location17276: 17276,
  Location28680: 28680,
  Location31253: 31253,
  Location31254: 31254,
  Location51173: 51173,
  Location51174: 51174,
  Location51175: 51175,
  APIStrictError: 323,
  APIVersionError: 322,
  Location4886600: 4886600,
} as const;

export type ErrorCodeName = keyof typeof ErrorCodes;

const codeNames = new Map<number, string>(Object.entries(ErrorCodes).map(([name, code]) => [code, name]));

/** The codeName MongoDB reports for a code ('Location<code>' for codes without a name). */
export function codeNameOf(code: number): string {
  const name = codeNames.get(code);
  return name === undefined || name.startsWith('Location') ? `Location${code}` : name;
}

export interface CommandErrorOptions {
  /** Error labels such as ResumableChangeStreamError or TransientTransactionError. */
  labels?: string[];
  /** Extra top-level reply fields (e.g. keyPattern/keyValue for duplicate keys). */
  extra?: Record<string, unknown>;
  cause?: unknown;
  /** A code outside the registry (a test fail point's chosen code); `codeName` then only documents intent. */
  code?: number;
}

/** A command failure: becomes `{ok: 0, errmsg, code, codeName, errorLabels?}` on the wire. */
export class MongoCommandError extends Error {
  readonly code: number;
  readonly codeName: string;
  readonly labels: string[];
  readonly extra: Record<string, unknown>;

  constructor(codeName: ErrorCodeName, message: string, options: CommandErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MongoCommandError';
    this.code = options.code ?? ErrorCodes[codeName];
    this.codeName = codeNameOf(this.code);
    this.labels = options.labels ?? [];
    this.extra = options.extra ?? {};
  }

  toReply(): Record<string, unknown> {
    const reply: Record<string, unknown> = {
      ok: 0,
      errmsg: this.message,
      code: this.code,
      codeName: this.codeName,
      ...this.extra,
    };
    if (this.labels.length > 0) reply.errorLabels = this.labels;
    return reply;
  }
}
