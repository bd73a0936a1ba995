"""Link: resolve person records across agencies into persons, with Splink."""
