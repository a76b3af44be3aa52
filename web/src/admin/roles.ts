import type { Role } from '../api/types';

/** The roles as an administrator chooses them. */
export const roleChoices: readonly { value: Role; label: string; description: string }[] = [
  { value: 'annotator', label: 'Annotator', description: 'views studies, measures and labels' },
  { value: 'researcher', label: 'Researcher', description: 'searches studies and exports cohorts' },
  { value: 'uploader', label: 'Uploader', description: 'uploads DICOM and follows ingest' },
  { value: 'admin', label: 'Administrator', description: 'approves users, reads the audit log' },
];
