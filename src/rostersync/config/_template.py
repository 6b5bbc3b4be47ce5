"""The commented starter configuration printed by ``rostersync config template``.

Tests check that this text validates, that it still validates with every commented-out example
uncommented (a comment that starts with ``key:`` is an example), and that every field of every
configuration model appears in it as a key where that model is used, so an option cannot be added
without being documented here.
"""

from __future__ import annotations

from typing import Final

TEMPLATE: Final = """\
# rostersync district configuration. Validate with: rostersync config validate FILE
district: Springfield Public Schools      # district name, as shown to admins

sources:                                  # one entry per activated source app
  - name: sis                             # source name: the `source` of every record (a-z 0-9 _ -)
    app: powerschool                      # connector: powerschool (more to come)
    sync_mode: import                     # import | two_way (also write grades back to the SIS)
    delivery:                             # from the PowerSchool plugin's Data Configuration page
      url: http://127.0.0.1:8765          # service URL
      client_id: rostersync-demo          # OAuth client ID
      client_secret: env:PS_CLIENT_SECRET # env:NAME | file:PATH | store:NAME (never plain text)
    connector: {}                         # app-specific options, checked by the connector
    advanced:
      contact_module: false               # use the PowerSchool Contacts module (PS 12+)
      contact_filter: null                # with contact_module on: keep contacts matching, e.g.
                                          #   {attribute: role, op: in, value: [guardian, parent]}
      contact_name_rule:                  # with contact_module off: split legacy contact names
        pattern: "{last}{sep}{first}"     # {first} {middle} {last} joined by {sep}
        separator: ","                    # the separator character
      sync_co_teachers: true              # also sync co-teachers of classes
      bulk_upload: false                  # detect deletions against the last accepted upload
                                          # (PowerSchool sends complete snapshots: what it stops
                                          # sending is deleted either way)
      multiple_sources: false             # people also in other sources (e.g. AD): matched
                                          #   with theirs on the common uniqueness domain
      compare_by_uniqueness: true         # merge records equal on their domain of uniqueness
      preview: false                      # every sync waits for an admin's approval
      sis_prefix: ""                      # prefix of every ID of this source, e.g. "ps-"
    schools_mapping: auto                 # auto = all schools, or choose them one by one:
    # schools_mapping:
    #   - source_id: "100"                # school ID (sourceId or school number) in the source
    #     target: null                    # another mapped school's ID to merge onto, or a new name
    attribute_mapping:                    # per entity type: attribute <- source field
      student:
        email: U_DEF_EXT_STUDENTS.school_email   # a custom field, TABLE.field
        username:                         # or {field | constant, transforms: [...]}
          field: email
          transforms:                     # trim, lower, upper, title,
            - lower                       # {replace: {old, new}}, {regex_replace: {pattern, new}},
            - regex_extract: "^([^@]+)"   # {regex_extract: re}, {concat: {fields, separator}},
            - default: unknown            # {format: "{value} {x}"}, {date_parse: fmt},
                                          # {date_format: fmt}, {value_map: {}}, {default: v},
                                          # {split: ","}
      teacher:
        sex:
          field: metadata.gender
          transforms: [upper, {value_map: {M: male, F: female}}]
      course:
        title:
          constant: Untitled course
    data_requirements:                    # per type, per attribute: report | skip if missing
      student: {email: report, birthDate: skip}
    filter_rules:                         # per type: student contact teacher admin course class
      student:                            #   calendar. Templates:
        - template: active_students_only  # active_students_only, exclude_pre_registered,
        - template: grade_range           # current_school_year_only (school_year: "2026"),
          min_grade: KG                   # teachers_with_class, contacts_of_synced_students,
          max_grade: "12"                 # exclude_test_records (pattern, attributes),
        - name: no test accounts          # grade_range (min_grade, max_grade)
          exclude:                        # custom rules: include | exclude a condition;
            all:                          # conditions: all / any / not, nestable; ops: equals,
              - attribute: familyName     # not_equals, in, not_in, contains, starts_with,
                op: matches               # ends_with, matches, greater_than, less_than,
                value: "^TEST"            # greater_or_equal, less_or_equal, between,
        - include:                        # is_empty, is_not_empty
            any:
              - {attribute: grades, op: in, value: ["09", "10", "11", "12"]}
              - not: {attribute: metadata.enroll_status, op: equals, value: P}
      calendar:
        - template: current_school_year_only
          school_year: null               # default: the latest school year in the data
      contact:
        - template: exclude_test_records
          pattern: "(?i)^(test|zz)"
          attributes: [givenName, familyName]
    uniqueness_domains:                   # per type: attributes that identify one record
      student: [givenName, familyName, email, birthDate]   # people default: name + email

master_fields:                            # with several sources: who wins per attribute
  users:                                  # an entity type or a table
    email: [sis]                          # sources in priority order

relinking:                                # when the source renumbers records (new SIS IDs)
  enabled: true                           # a record that disappears while a new one matches it
                                          #   keeps its sourcedId: an update, not delete+create
  min_confidence: 1.0                     # share of the keys equal on both (0.5-1.0)
  keys: {}                                # per type; default: its domain of uniqueness
  # keys:
  #   student: [metadata.stateId, givenName, familyName, birthDate]

hold_threshold:                           # hold a sync until approved when a change exceeds a limit
                                          # (one per district; a source's advanced.hold_threshold
                                          # is still read, deprecated)
  delete_percent: 10                      # % of an entity's records deleted (null: no limit)
  update_percent: 75                      # % of an entity's records updated (null: no limit)
  create_percent: null                    # % created, of the last accepted version's records
  delete_count: null                      # number of records deleted (per entity)
  update_count: null                      # number of records updated
  create_count: null                      # number of records created
  entities: {}                            # overrides per table (users, classes, …) or entity
  # entities:                             #   type (student, teacher, …): only the limits given
  #   student: {delete_count: 50, delete_percent: null}     # replace the defaults
  per_school: false                       # also apply the limits to each school's records
  allow_over_threshold_until: null        # planned mass change: no threshold hold until this date
  rollover_windows: []                    # date windows in which some changes wait, e.g.
  # rollover_windows:
  #   - kind: additions_only              # additions_only (only new records are published) |
  #     start: 2026-06-15                 #   no_deletions (nothing is removed); first day and
  #     end: 2026-08-20                   #   last day (inclusive), the district's local dates

sync_schedule:                            # when the district syncs by itself
  every: null                             # daily | weekly (on days) | null: no periodic sync
  days: []                                # weekly: [mon, tue, wed, thu, fri, sat, sun]
  at: "02:00"                             # HH:MM (24-hour clock) in the district's time zone
  timezone: America/Chicago               # IANA time zone of the district
  starts: null                            # first day scheduled syncs may run (YYYY-MM-DD)
  expires: null                           # last day scheduled syncs may run (YYYY-MM-DD)
  first_day_of_school: true               # also sync at 00:00 on the first day of the new
                                          #   school year (from the calendar); default false
  retry_interrupted: false                # a run whose worker died is run once more

notifications:                            # who is told about runs, and how
  emails: []                              # admins to email (SMTP: see ROSTERSYNC_SMTP_*)
  on_new_data: true                       # when a new roster version is published
  on_held: true                           # when a sync is held for approval
  on_failure: true                        # when a sync fails
  webhook_url: null                       # also POST these events here (http:// or https://)
  webhook_secret: null                    # HMAC signing secret of webhook_url: env:NAME |
                                          #   file:PATH | store:NAME
  webhooks: []                            # more webhooks, each with its own events and policy:
  # webhooks:
  #   - url: https://hooks.example.org/rostersync   # http(s) URL that receives the events
  #     secret: env:WEBHOOK_SECRET        # signing secret reference (or null: unsigned)
  #     events: [published, held, failed] # which events to send
  #     max_attempts: 5                   # tries before giving up (1-20)
  #     backoff_seconds: 1.0              # wait before the 2nd try; doubles each try
  #     max_backoff_seconds: 60.0         # longest wait between tries
  #     timeout_seconds: 10.0             # per request

deletion_retention_days: 30               # days a deleted record stays readable over the
                                          #   OneRoster REST API as tobedeleted (0-3650)
"""
