import * as v from 'valibot';

/** A short, readable account of why a value failed its schema: where and what, for the first few problems. */
export function formatIssues(issues: readonly v.BaseIssue<unknown>[], limit = 3): string {
  const parts = issues.slice(0, limit).map((issue) => {
    const path = v.getDotPath(issue);
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  const more = issues.length > limit ? `; and ${issues.length - limit} more` : '';
  return `${parts.join('; ')}${more}`;
}
