export * from './schema';
export * from './rows';
export * from './store';
export * from './retention';
export { exportTable, runExportCli, parseExportArgs, parseTimeArg, UsageError, EXPORT_USAGE } from './export';
export type { ExportOptions, ExportResult, ExportFormat, ExportArgs } from './export';
export { Db, Stmt, sqliteCode } from './sqlite';
export type { SqlValue, SqlRow, RunInfo } from './sqlite';
