/** One ticket as every ITSM fake shows it, so end-to-end tests run one scenario on each. */
export interface FakeTicket {
  id: string;
  number: string;
  kind: 'change' | 'incident';
  title: string;
  /** The vendor's own state name: "Closed" (ServiceNow), "Done" (Jira), "closed" (GitHub). */
  state: string;
  closeCode?: string;
  /** Work notes / comments as plain text, oldest first. */
  comments: string[];
  /** The correlation id (or key) the adapter stored in the ticket. */
  correlation?: string;
  /** For incidents: the change (id or number) they are linked to. */
  linkedTo?: string;
  /** ServiceNow changes: normal | emergency | standard. */
  type?: string;
}
